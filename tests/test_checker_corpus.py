"""bench/checker_corpus.py on a small corpus built from the checker's own bad_*.py
fixtures: its counts are the checker's, its sample is capped, errors only and the
same for the same seed, and its precision and targets follow the verdicts given.
Expected figures come from running the checker here, never from fixed numbers."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from project import PROJECT_DIR

from bench import checker_corpus

FIXTURES = PROJECT_DIR / "tests" / "check_fixtures"
SCRIPT = PROJECT_DIR / "bench" / "checker_corpus.py"
CHECKER = PROJECT_DIR / "scripts" / "check_migrations.py"
PROJECTS = ("alpha", "beta")
PER_RULE = 2  # small enough that several rules of the fixtures exceed it
DOCUMENT_KEYS = {
    "corpus",
    "projects",
    "command",
    "machine",
    "runs",
    "timing",
    "checker",
    "revision_files",
    "files_with_errors",
    "findings",
    "sample",
    "verdicts",
    "precision",
    "targets",
    "met",
}
TARGETS = {
    "checker_time",
    "checker_ran",
    "sampled_errors",
    "all_judged",
    "overall_precision",
    "rule_precision",
}


@dataclass
class Run:
    """One in-process run of the script, and the JSON it wrote."""

    code: int
    stdout: str
    stderr: str
    document: dict
    output: Path


def run(corpus: Path, folder: Path, verdicts: Path, *options: str) -> Run:
    """main() with one checker run, results in a new folder below ``folder``."""
    output = Path(tempfile.mkdtemp(prefix="results-", dir=folder))
    stdout, stderr = io.StringIO(), io.StringIO()
    arguments = ["--runs", "1", "--output", str(output), "--verdicts", str(verdicts), *options]
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = checker_corpus.main([str(corpus), *arguments])
    written = output / "checker_corpus.json"
    document = json.loads(written.read_text()) if written.exists() else {}
    return Run(code, stdout.getvalue(), stderr.getvalue(), document, output)


def verdicts_file(folder: Path, rows: dict[str, str], extra: str = "") -> Path:
    """A verdicts CSV judging each key in ``rows`` as its value."""
    path = Path(tempfile.mkstemp(prefix="verdicts-", suffix=".csv", dir=folder)[1])
    lines = [f"{key},{verdict},judged in a test\n" for key, verdict in rows.items()]
    path.write_text("# verdicts for this test\nkey,verdict,reason\n" + "".join(lines) + extra)
    return path


def key(finding: dict) -> str:
    return f"{finding['file']}:{finding['line']}:{finding['rule']}"


def errors_by_rule(findings: list[dict]) -> dict[str, list[dict]]:
    """Each rule's error findings in (file, line, message) order, one per key."""
    rules: dict[str, dict[str, dict]] = {}
    for finding in sorted(findings, key=lambda f: (f["file"], f["line"], f["message"])):
        if finding["severity"] == "error":
            rules.setdefault(finding["rule"], {}).setdefault(key(finding), finding)
    return {rule: list(by_key.values()) for rule, by_key in rules.items()}


def target_lines(summary: str) -> dict[str, str]:
    """The text summary's verdict line per target."""
    return {
        line.split(":", 1)[0]: line
        for line in summary.splitlines()
        if line.split(":", 1)[0] in TARGETS
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two projects, alpha and beta, each with the bad fixtures of every other rule folder."""
    root = tmp_path_factory.mktemp("corpus")
    folders = sorted(path for path in FIXTURES.iterdir() if path.is_dir())
    for index, folder in enumerate(folders):
        for bad in sorted(folder.glob("bad_*.py")):
            target = root / PROJECTS[index % 2] / folder.name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(bad, target / bad.name)
    return root


@pytest.fixture(scope="module")
def findings(corpus: Path) -> list[dict]:
    """What the checker itself says about the corpus, run the way the script runs it."""
    result = subprocess.run(
        [sys.executable, str(CHECKER), "--format", "json", *PROJECTS],
        cwd=corpus,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def baseline(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The default seed, PER_RULE per rule, nothing judged, a sheet, JSON on stdout."""
    folder = tmp_path_factory.mktemp("baseline")
    options = ("--per-rule", str(PER_RULE), "--format", "json", "--sheet", str(folder / "s.md"))
    return run(corpus, folder, verdicts_file(folder, {}), *options)


def test_counts_are_the_checkers(corpus, findings, baseline) -> None:
    """Per rule, per project, errors and warnings apart, files with an error, files read."""
    assert baseline.code == 1  # nothing is judged
    counted = baseline.document["findings"]
    assert {"error", "warning"} == {f["severity"] for f in findings}  # both kinds exercised
    assert set(counted["by_rule"]) == {f["rule"] for f in findings}
    per_rule = Counter((f["rule"], f["severity"]) for f in findings)
    per_project = Counter((f["rule"], f["file"].split("/")[0], f["severity"]) for f in findings)
    for rule, row in counted["by_rule"].items():
        for severity in ("error", "warning"):
            assert row[severity] == per_rule[rule, severity], (rule, severity)
            for project in PROJECTS:
                assert row["by_project"][project][severity] == per_project[rule, project, severity]
    for severity in ("error", "warning"):
        total = sum(1 for f in findings if f["severity"] == severity)
        assert counted["total"][severity] == total
        assert sum(counted["by_project"][p][severity] for p in PROJECTS) == total

    with_errors = {f["file"] for f in findings if f["severity"] == "error"}
    assert baseline.document["files_with_errors"] == {
        **{p: sum(1 for file in with_errors if file.startswith(f"{p}/")) for p in PROJECTS},
        "total": len(with_errors),
    }
    copied = {p: len(list((corpus / p).rglob("*.py"))) for p in PROJECTS}
    assert baseline.document["revision_files"] == {**copied, "total": sum(copied.values())}


def test_the_sample_is_capped_errors_only_and_drawn_as_documented(findings, baseline) -> None:
    """At most --per-rule per rule, every rule with an error, Random(seed).sample per rule."""
    errors = errors_by_rule(findings)
    assert any(len(picked) > PER_RULE for picked in errors.values())  # the cap is exercised
    assert {f["rule"] for f in findings if f["severity"] == "warning"} - set(errors)

    sample = baseline.document["sample"]
    assert sample["seed"] == 2026 and sample["per_rule"] == PER_RULE
    assert set(sample["by_rule"]) == set(errors)  # rules that only warn stay out
    error_keys = {key(f) for f in findings if f["severity"] == "error"}
    for rule, keys in sample["by_rule"].items():
        assert len(keys) == min(PER_RULE, len(errors[rule])), rule
        assert set(keys) <= error_keys
        drawn = random.Random(2026).sample(errors[rule], min(PER_RULE, len(errors[rule])))
        assert set(keys) == {key(f) for f in drawn}, rule
    flat = [k for keys in sample["by_rule"].values() for k in keys]
    assert sample["keys"] == flat and sample["size"] == len(flat)


def test_the_same_seed_draws_the_same_sample_and_another_seed_another(
    corpus, baseline, tmp_path
) -> None:
    verdicts = verdicts_file(tmp_path, {})
    again = run(corpus, tmp_path, verdicts, "--per-rule", str(PER_RULE), "--seed", "2026")
    assert again.document["sample"] == baseline.document["sample"]
    # Several rules have more errors than PER_RULE, so another seed picks other ones.
    other = run(corpus, tmp_path, verdicts, "--per-rule", str(PER_RULE), "--seed", "1")
    assert other.document["sample"]["keys"] != baseline.document["sample"]["keys"]


def test_precision_and_targets_follow_the_verdicts(corpus, baseline, tmp_path, monkeypatch) -> None:
    """One fp in a rule of two: that rule is 50%, the rest 100%, stale rows ignored."""
    monkeypatch.setattr(checker_corpus, "TARGET_S", 120.0)  # timing is not tested here
    sampled = baseline.document["sample"]["by_rule"]
    mixed = next(rule for rule, keys in sampled.items() if len(keys) == 2)
    rows = {k: "tp" for keys in sampled.values() for k in keys}
    rows[sampled[mixed][0]] = "fp"
    stale = "gone/versions/old.py:1:drop-column,tp,\nalso/gone.py:9:drop-table,fp,x\n"

    judged = run(corpus, tmp_path, verdicts_file(tmp_path, rows, stale), "--per-rule", "2")
    size = len(rows)
    figures, targets = judged.document["precision"], judged.document["targets"]
    assert {k: v for k, v in figures["by_rule"][mixed].items() if k != "errors"} == {
        "sampled": 2,
        "tp": 1,
        "fp": 1,
        "precision": 0.5,
    }
    for rule, keys in sampled.items():
        if rule != mixed:
            assert figures["by_rule"][rule]["precision"] == 1.0, rule
            assert figures["by_rule"][rule]["tp"] == len(keys), rule
    assert (figures["tp"], figures["fp"], figures["judged"]) == (size - 1, 1, size)
    assert figures["overall"] == pytest.approx((size - 1) / size)
    assert judged.document["verdicts"]["missing"] == []
    assert judged.document["verdicts"]["stale"] == 2
    assert targets["all_judged"]["met"] is True
    assert targets["rule_precision"]["met"] is False
    assert mixed in targets["rule_precision"]["detail"]
    assert targets["overall_precision"]["met"] is ((size - 1) / size >= 0.9)
    assert targets["sampled_errors"]["met"] is (size >= 60)
    assert judged.code == 1 and judged.document["met"] is False
    assert target_lines(judged.stdout)["rule_precision"].endswith(": NOT MET")

    # Every sampled error right: each target met once 1 sampled error is enough.
    monkeypatch.setattr(checker_corpus, "MIN_SAMPLED", 1)
    rows[sampled[mixed][0]] = "tp"
    right = run(corpus, tmp_path, verdicts_file(tmp_path, rows), "--per-rule", "2")
    assert right.code == 0, right.stdout
    assert set(target_lines(right.stdout)) == TARGETS
    assert all(line.endswith(": met") for line in target_lines(right.stdout).values())
    assert right.document["met"] is True

    # The same run held against a target no run can meet: only the time fails.
    monkeypatch.setattr(checker_corpus, "TARGET_S", 0.0)
    slow = run(corpus, tmp_path, verdicts_file(tmp_path, rows), "--per-rule", "2")
    assert slow.code == 1
    assert [name for name, t in slow.document["targets"].items() if not t["met"]] == [
        "checker_time"
    ]
    assert slow.document["timing"]["met"] is False

    # Every sampled error wrong: both precision targets fail, and say so.
    wrong = run(
        corpus, tmp_path, verdicts_file(tmp_path, dict.fromkeys(rows, "fp")), "--per-rule", "2"
    )
    assert wrong.code == 1 and wrong.document["precision"]["overall"] == 0.0
    lines = target_lines(wrong.stdout)
    assert lines["overall_precision"].endswith(": NOT MET")
    assert lines["rule_precision"].endswith(": NOT MET")
    assert lines["all_judged"].endswith(": met")


def test_missing_verdicts_are_listed_and_fail_the_run(
    corpus, baseline, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(checker_corpus, "TARGET_S", 120.0)
    monkeypatch.setattr(checker_corpus, "MIN_SAMPLED", 1)
    keys = baseline.document["sample"]["keys"]
    # One of two in two rules, so each rule keeps a precision and only judging fails.
    pairs = [
        picked for picked in baseline.document["sample"]["by_rule"].values() if len(picked) == 2
    ]
    assert len(pairs) >= 2
    unjudged = [pairs[0][0], pairs[-1][1]]
    rows = {k: "tp" for k in keys if k not in unjudged}
    verdicts = verdicts_file(tmp_path, rows)

    result = run(corpus, tmp_path, verdicts, "--per-rule", str(PER_RULE))
    assert result.code == 1
    assert result.document["verdicts"]["missing"] == unjudged
    assert result.document["verdicts"]["judged"] == len(rows)
    failed = [name for name, t in result.document["targets"].items() if not t["met"]]
    assert failed == ["all_judged"]
    assert f"2 sampled errors have no verdict in {verdicts}:" in result.stdout
    assert all(f"    {k}" in result.stdout.splitlines() for k in unjudged)
    assert target_lines(result.stdout)["all_judged"].endswith(": NOT MET")
    assert result.stdout.count("NOT MET") == 1


def test_an_unknown_corpus_exits_2_with_one_line(tmp_path) -> None:
    missing = tmp_path / "no-such-corpus"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(missing), "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(missing) in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("key,verdict,reason\nalpha/x.py:1:drop-column,maybe,\n", "tp or fp"),
        ("key,verdict\n", "first row"),
        ("key,verdict,reason\na.py:1:r,tp,\na.py:1:r,fp,\n", "judged already"),
    ],
)
def test_a_malformed_verdicts_file_exits_2_with_one_line(corpus, tmp_path, rows, said) -> None:
    verdicts = tmp_path / "verdicts.csv"
    verdicts.write_text(rows)
    result = run(corpus, tmp_path, verdicts)
    assert result.code == 2 and result.stdout == "" and result.document == {}
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr


def test_the_json_document_has_the_documented_keys_and_is_written(baseline) -> None:
    document = baseline.document
    assert json.loads(baseline.stdout) == document  # --format json prints what it writes
    assert set(document) == DOCUMENT_KEYS
    assert set(document["targets"]) == TARGETS
    assert document["projects"] == list(PROJECTS)
    assert set(document["timing"]) >= {"seconds", "slowest_s", "fastest_s", "target_s", "met"}
    assert document["timing"]["target_s"] == 3.0 and len(document["timing"]["seconds"]) == 1
    assert set(document["checker"]) >= {"exit_codes", "crashed", "errors"}
    assert set(document["sample"]) >= {"seed", "per_rule", "size", "keys", "by_rule"}
    assert set(document["verdicts"]) >= {"file", "judged", "missing", "stale"}
    assert set(document["precision"]) >= {"overall", "tp", "fp", "judged", "by_rule"}
    written = baseline.output / "checker_corpus.json"
    assert baseline.stderr.splitlines()[-1] == f"results: {written.resolve()}"


def test_the_sheet_shows_each_sampled_error_with_its_code(corpus, findings, baseline) -> None:
    said = [line for line in baseline.stderr.splitlines() if line.startswith("sheet: ")]
    assert len(said) == 1
    text = Path(said[0].removeprefix("sheet: ")).read_text()
    keys = baseline.document["sample"]["keys"]
    assert text.count("\n### ") == len(keys)
    by_key = {key(f): f for f in findings}
    for k in keys:
        finding = by_key[k]
        assert finding["message"] in text
        block = text.split(f"\n### `{k}`\n", 1)[1].split("\n### ", 1)[0]
        lines = (corpus / finding["file"]).read_text().splitlines()
        line = finding["line"]
        marked = [row for row in block.splitlines() if row.startswith(">")]
        assert len(marked) == 1 and marked[0].split()[1] == str(line), (k, marked)
        assert marked[0].endswith(lines[line - 1].rstrip()), (k, marked)
        for context in range(max(1, line - 3), min(len(lines), line + 3) + 1):
            assert lines[context - 1].strip() in block, (k, context)


def test_unusable_input_and_a_traceback_fail_the_checker_target(
    corpus, findings, tmp_path, monkeypatch
) -> None:
    """Exit 2 is reported with its error line; the readable files are still counted."""
    broken = tmp_path / "corpus"
    shutil.copytree(corpus, broken)
    (broken / "gamma").mkdir()
    (broken / "gamma" / "broken.py").write_text("revision = 'x'\ndef upgrade(:\n")
    result = run(broken, tmp_path, verdicts_file(tmp_path, {}))
    assert result.code == 1
    assert result.document["checker"]["exit_codes"] == [2]
    assert any("gamma/broken.py" in line for line in result.document["checker"]["errors"])
    assert "gamma/broken.py" in result.stdout
    assert result.document["targets"]["checker_ran"]["met"] is False
    errors = sum(1 for f in findings if f["severity"] == "error")
    assert result.document["findings"]["total"]["error"] == errors

    # A crash exits 1 like findings do; the traceback is what gives it away.
    crashing = tmp_path / "crashing_checker.py"
    crashing.write_text("print('[]')\nraise RuntimeError('rule blew up')\n")
    monkeypatch.setattr(checker_corpus, "CHECKER", crashing)
    result = run(corpus, tmp_path, verdicts_file(tmp_path, {}))
    assert result.code == 1
    assert "RuntimeError: rule blew up" in result.stdout
    assert target_lines(result.stdout)["checker_ran"] == (
        "checker_ran: crashed on run 1 of 1: NOT MET"
    )


def test_runs_that_disagree_fail_the_checker_target(corpus, tmp_path, monkeypatch) -> None:
    """The sample is only reproducible if the checker says the same thing each run."""
    counter = tmp_path / "runs"
    finding = {"file": "alpha/x.py", "line": 1, "rule": "drop-column", "severity": "error"}
    flaky = tmp_path / "flaky_checker.py"
    flaky.write_text(
        "import json, pathlib\n"
        f"counter = pathlib.Path({str(counter)!r})\n"
        "runs = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "counter.write_text(str(runs))\n"
        f"finding = {finding!r} | {{'message': 'run %d' % runs, 'fix': ''}}\n"
        "print(json.dumps([finding]))\n"
        "raise SystemExit(1)\n"
    )
    monkeypatch.setattr(checker_corpus, "CHECKER", flaky)
    result = run(corpus, tmp_path, verdicts_file(tmp_path, {}), "--runs", "2")  # last one counts
    assert result.code == 1 and result.document["checker"]["exit_codes"] == [1, 1]
    assert result.document["targets"]["checker_ran"]["met"] is False
    assert "differ" in result.document["targets"]["checker_ran"]["detail"]
