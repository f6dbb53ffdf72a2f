"""The initial tables: footprints and their keys, clients, releases, tokens, event requests.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "footprints",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, index=True),
        sa.Column("spec_version", sa.String(16), nullable=False),
        sa.Column("api", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.DateTime, nullable=False),
        sa.Column("valid_to", sa.DateTime, nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False, index=True),
        # The v3.0 and v2.3 renderings of one footprint share its id; each is served
        # under its own API version.
        sa.UniqueConstraint("id", "api", name="uq_footprints_id_api"),
    )
    op.create_table(
        "footprint_keys",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "footprint_pk",
            sa.Integer,
            sa.ForeignKey("footprints.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
    )
    op.create_index("ix_footprint_keys_kind_value", "footprint_keys", ["kind", "value"])
    op.create_index("ix_footprint_keys_footprint", "footprint_keys", ["footprint_pk", "kind"])
    op.create_table(
        "clients",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("secret_salt", sa.LargeBinary, nullable=False),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False),
        sa.Column("secret_kdf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("events_url", sa.String(2000), nullable=True),
        sa.Column("events_client_id", sa.String(200), nullable=True),
        sa.Column("events_client_secret", sa.String(500), nullable=True),
    )
    op.create_table(
        "client_releases",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "client_pk", sa.Integer, sa.ForeignKey("clients.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
    )
    op.create_index("ix_client_releases_client", "client_releases", ["client_pk", "kind", "value"])
    op.create_table(
        "tokens",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "client_pk", sa.Integer, sa.ForeignKey("clients.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "event_requests",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "client_pk", sa.Integer, sa.ForeignKey("clients.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("api", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String(500), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "event_requests",
        "tokens",
        "client_releases",
        "clients",
        "footprint_keys",
        "footprints",
    ):
        op.drop_table(table)
