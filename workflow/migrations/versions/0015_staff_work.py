"""staff work: lead reviewers, the Prüfvermerk (criteria per call, versioned assessments) and
the worklist's indexes

Revision ID: 0015_staff_work
Revises: 0011_outbox_attachments
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_staff_work"
down_revision = "0013_onboarding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("lead", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("assessment_criteria", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("assessment_scale", sa.JSON(), nullable=True))
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("amounts_cents", sa.JSON(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("application_id", "version"),
    )
    op.create_index("ix_assessment_application_id", "assessment", ["application_id"])
    op.create_index("ix_application_state_received", "application", ["state", "received_at"])
    op.create_index("ix_application_officer_state", "application", ["case_officer_id", "state"])
    op.create_index("ix_application_received", "application", ["received_at"])
    op.create_index("ix_transition_app_actor_at", "transition_record",
                    ["application_id", "actor_id", "at"])
    op.create_index("ix_transition_app_trigger_at", "transition_record",
                    ["application_id", "trigger", "at"])
    op.create_index("ix_deadline_app_status_due", "deadline",
                    ["application_id", "status", "due_date"])


def downgrade() -> None:
    for name, table in (("ix_deadline_app_status_due", "deadline"),
                        ("ix_transition_app_trigger_at", "transition_record"),
                        ("ix_transition_app_actor_at", "transition_record"),
                        ("ix_application_received", "application"),
                        ("ix_application_officer_state", "application"),
                        ("ix_application_state_received", "application")):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_assessment_application_id", table_name="assessment")
    op.drop_table("assessment")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("assessment_scale")
        batch.drop_column("assessment_criteria")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("lead")
