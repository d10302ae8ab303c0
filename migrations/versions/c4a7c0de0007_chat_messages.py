"""chat messages (issue 7)

Revision ID: c4a7c0de0007
Revises: a6e1c0de0006
Create Date: 2026-11-23 16:30:00

"""
from alembic import op
import sqlalchemy as sa

import hospital.models.types


# revision identifiers, used by Alembic.
revision = 'c4a7c0de0007'
down_revision = 'a6e1c0de0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', hospital.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', hospital.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(body) BETWEEN 1 AND 2000', name=op.f('ck_chat_messages_body_length')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_chat_messages_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_chat_messages_sender_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages'))
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_appointment_id_id', ['appointment_id', 'id'], unique=False)

    op.create_table('chat_closures',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', hospital.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_chat_closures_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_chat_closures_closed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_chat_closures'))
    )


def downgrade():
    op.drop_table('chat_closures')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_appointment_id_id')

    op.drop_table('chat_messages')
