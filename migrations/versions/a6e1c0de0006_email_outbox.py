"""email outbox (issue 6)

Revision ID: a6e1c0de0006
Revises: c8980774d9a8
Create Date: 2026-11-23 16:30:00

"""
from alembic import op
import sqlalchemy as sa

import hospital.models.types


# revision identifiers, used by Alembic.
revision = 'a6e1c0de0006'
down_revision = 'c8980774d9a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('dedupe_key', sa.String(length=160), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hospital.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hospital.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', hospital.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', hospital.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', hospital.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name=op.f('ck_email_messages_status_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_email_messages_attempts_positive')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_email_messages_appointment_id_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_email_messages_clinic_id_clinics'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_email_messages_dedupe_key'))
    )
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.create_index('ix_email_messages_clinic_status', ['clinic_id', 'status', 'last_attempt_at'], unique=False)
        batch_op.create_index('ix_email_messages_status_next_attempt', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_email_messages_status_next_attempt')
        batch_op.drop_index('ix_email_messages_clinic_status')

    op.drop_table('email_messages')
