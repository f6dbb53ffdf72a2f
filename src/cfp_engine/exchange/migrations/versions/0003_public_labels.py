"""Public label pages, announced footprints, the status written in each payload, event look-up.

- ``label_pages``: the readable label of a public footprint, one HTML page per language,
  rendered at publish time (the PACT payload does not carry all a label shows);
- ``footprints.announced_at``: when ``Published`` events were queued for the footprint
  (announcing twice queues nothing); footprints published before are taken as announced;
- ``footprints.payload_status``: the ``status`` written in the stored payload, so a
  footprint whose status did not change since is served as stored, without re-encoding;
- an index to find an event a client already sent (the same event twice is answered once).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_pages",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "footprint_pk",
            sa.Integer,
            sa.ForeignKey("footprints.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.UniqueConstraint("footprint_pk", "lang", name="uq_label_pages_footprint_lang"),
    )
    with op.batch_alter_table("footprints") as batch:
        batch.add_column(sa.Column("announced_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("payload_status", sa.String(16), nullable=True))
    op.execute("UPDATE footprints SET announced_at = published_at")
    op.create_index("ix_event_requests_event", "event_requests", ["client_pk", "api", "event_id"])


def downgrade() -> None:
    op.drop_index("ix_event_requests_event", "event_requests")
    with op.batch_alter_table("footprints") as batch:
        batch.drop_column("payload_status")
        batch.drop_column("announced_at")
    op.drop_table("label_pages")
