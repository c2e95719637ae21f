"""NOT VALID in SQL, with quoted names that hold commas and parentheses."""

from alembic import op

revision = "constraint_not_valid_good_raw_not_valid"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        'ALTER TABLE "order, items" ADD CONSTRAINT "fk (order), id" '
        'FOREIGN KEY ("order, id") REFERENCES orders (id) NOT VALID, '
        "ADD CONSTRAINT ck_items_qty CHECK (qty > 0 AND note <> 'a, b') NOT VALID"
    )
    # A CHECK on a table created here scans nothing anyone waits for.
    op.execute("CREATE TABLE coupons (id bigint, pct int)")
    op.execute("ALTER TABLE coupons ADD CONSTRAINT ck_coupons_pct CHECK (pct BETWEEN 0 AND 100)")


def downgrade() -> None:
    op.execute("DROP TABLE coupons")
    op.execute('ALTER TABLE "order, items" DROP CONSTRAINT ck_items_qty')
    op.execute('ALTER TABLE "order, items" DROP CONSTRAINT "fk (order), id"')
