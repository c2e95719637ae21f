"""``# check: ignore[RULE-ID] reason`` comments.

A trailing comment covers the statement it sits on (any of its lines); a comment
on a line of its own covers the next line of code. A suppression must say why,
and one that suppresses nothing is reported, so stale comments do not pile up.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from .model import RULES_BY_ID, SQUAWK_PREFIX, Finding, make_finding

SUPPRESSION = re.compile(r"#\s*check:\s*ignore\[([^\]]*)\](.*)$")
UNSUPPRESSIBLE = {"suppression-without-reason", "unused-suppression"}


@dataclass
class Suppression:
    """One comment: where it is, which line it covers, which rules and why."""

    line: int
    target: int
    rules: tuple[str, ...]
    reason: str
    used: set[str] = field(default_factory=set)

    def covers(self, finding: Finding) -> bool:
        """True when the finding's rule is named and its lines include the covered line."""
        end = max(finding.end_line, finding.line)
        return finding.rule in self.rules and finding.line <= self.target <= end


def read_suppressions(text: str) -> list[Suppression]:
    """Find suppression comments with the tokenizer, so strings that look alike are ignored."""
    if "check:" not in text:  # most files have none; tokenizing them costs more than the rules
        return []
    lines = text.splitlines()
    found: list[Suppression] = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = SUPPRESSION.search(token.string)
        if not match:
            continue
        line = token.start[0]
        standalone = not token.line[: token.start[1]].strip()
        rules = tuple(part.strip() for part in match.group(1).split(",") if part.strip())
        reason = match.group(2).strip().lstrip("-:—").strip()
        target = _next_code_line(lines, line) if standalone else line
        found.append(Suppression(line, target, rules, reason))
    return found


def _next_code_line(lines: list[str], line: int) -> int:
    """The first line after ``line`` that is neither blank nor only a comment."""
    for number in range(line + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return line


def apply_suppressions(
    findings: list[Finding], suppressions: list[Suppression], file: str, sql_checked: bool
) -> list[Finding]:
    """Drop suppressed findings; add findings for reasonless and unused suppressions."""
    kept: list[Finding] = []
    for finding in findings:
        covering = [s for s in suppressions if s.covers(finding)]
        for suppression in covering:
            suppression.used.add(finding.rule)
        if not covering or finding.rule in UNSUPPRESSIBLE:
            kept.append(finding)
    for suppression in suppressions:
        kept.extend(_suppression_findings(suppression, file, sql_checked))
    return kept


def _suppression_findings(suppression: Suppression, file: str, sql_checked: bool) -> list[Finding]:
    """Problems with the comment itself."""
    line = suppression.line
    problems: list[Finding] = []
    if not suppression.reason:
        problems.append(
            make_finding(
                "suppression-without-reason",
                file,
                line,
                f"ignore[{', '.join(suppression.rules)}] gives no reason",
            )
        )
    if not suppression.rules:
        problems.append(make_finding("unused-suppression", file, line, "ignore[] names no rule"))
    for rule in suppression.rules:
        is_squawk = rule.startswith(SQUAWK_PREFIX)
        if rule in suppression.used or (is_squawk and not sql_checked):
            continue
        if not is_squawk and (rule not in RULES_BY_ID or rule in UNSUPPRESSIBLE):
            detail = f"ignore[{rule}] names no suppressible rule"
        else:
            detail = f"ignore[{rule}] suppresses nothing on the line it covers"
        problems.append(make_finding("unused-suppression", file, line, detail))
    return problems
