"""Roles keyed on the sign-in account (issuer and subject), and a record of roles seeded once."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo import store_ddl

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """Create ``roles`` (or add its account columns) and ``role_seeds``."""
    existing = store_ddl.tables()
    if "roles" not in existing:
        op.create_table(
            "roles",
            sa.Column("email", sa.String(255), primary_key=True),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("team", sa.String(100), nullable=True),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.Column("updated_by", sa.String(255), nullable=False),
            sa.Column("issuer", sa.String(255), nullable=True),
            sa.Column("subject", sa.String(255), nullable=True),
        )
    else:  # made by an earlier Beatplan with create_all: add the account columns
        cols = store_ddl.columns("roles")
        with op.batch_alter_table("roles") as batch:
            if "issuer" not in cols:
                batch.add_column(sa.Column("issuer", sa.String(255), nullable=True))
            if "subject" not in cols:
                batch.add_column(sa.Column("subject", sa.String(255), nullable=True))
    if "ix_roles_account" not in store_ddl.indexes("roles"):
        op.create_index("ix_roles_account", "roles", ["issuer", "subject"], unique=True)
    if "role_seeds" not in existing:
        op.create_table(
            "role_seeds",
            sa.Column("email", sa.String(255), primary_key=True),
            sa.Column("seeded_at", sa.DateTime, nullable=False),
        )


def downgrade() -> None:
    """Drop ``role_seeds`` and the account columns (people sign in by e-mail again)."""
    op.drop_table("role_seeds")
    op.drop_index("ix_roles_account", table_name="roles")
    with op.batch_alter_table("roles") as batch:
        batch.drop_column("subject")
        batch.drop_column("issuer")
