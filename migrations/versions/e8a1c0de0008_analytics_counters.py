"""analytics counters (issue 8)

Revision ID: e8a1c0de0008
Revises: c4a7c0de0007
Create Date: 2026-11-23 16:45:00

"""
from alembic import op
import sqlalchemy as sa

import hospital.models.types


# revision identifiers, used by Alembic.
revision = 'e8a1c0de0008'
down_revision = 'c4a7c0de0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_counters',
    sa.Column('metric', sa.String(length=8), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint("grain IN ('day', 'month')", name=op.f('ck_analytics_counters_grain_valid')),
    sa.CheckConstraint("metric IN ('total', 'status', 'doctor', 'hour')", name=op.f('ck_analytics_counters_metric_valid')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_analytics_counters_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('metric', 'grain', 'bucket', 'clinic_id', 'key', name=op.f('pk_analytics_counters'))
    )
    op.create_table('patient_booking_totals',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_booking_totals_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_patient_booking_totals'))
    )
    with op.batch_alter_table('patient_booking_totals', schema=None) as batch_op:
        batch_op.create_index('ix_patient_booking_totals_count', ['count', 'patient_id'], unique=False)

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_created', ['created_at'], unique=False,
                              postgresql_include=['clinic_id', 'patient_id'])
        batch_op.create_index('ix_appointments_patient_created', ['patient_id', 'created_at'], unique=False,
                              postgresql_include=['clinic_id'])
    _fill_counters()


def _fill_counters():
    """Count the appointments that exist already (what `flask analytics rebuild` does;
    written out here so that later changes to the app cannot change this revision)."""
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        bind.execute(sa.text("""
            INSERT INTO analytics_counters (metric, grain, bucket, clinic_id, key, count)
            WITH a AS MATERIALIZED (
                SELECT a.clinic_id, (a.created_at AT TIME ZONE c.timezone)::date AS day, a.status, a.doctor_id,
                       (extract(isodow FROM a.start_at AT TIME ZONE c.timezone)::int - 1) || ':'
                       || to_char(a.start_at AT TIME ZONE c.timezone, 'HH24') AS hour
                FROM appointments a JOIN clinics c ON c.id = a.clinic_id)
            SELECT 'total', 'day', day, clinic_id, 'all', count(*) FROM a GROUP BY day, clinic_id
            UNION ALL SELECT 'status', 'day', day, clinic_id, status, count(*) FROM a GROUP BY day, clinic_id, status
            UNION ALL SELECT 'doctor', 'day', day, clinic_id, doctor_id::text, count(*) FROM a GROUP BY day, clinic_id, doctor_id
            UNION ALL SELECT 'hour', 'day', day, clinic_id, hour, count(*) FROM a GROUP BY day, clinic_id, hour"""))
        bind.execute(sa.text("""
            INSERT INTO analytics_counters (metric, grain, bucket, clinic_id, key, count)
            SELECT metric, 'month', date_trunc('month', bucket)::date, clinic_id, key, sum(count)
            FROM analytics_counters WHERE grain = 'day' GROUP BY 1, 3, 4, 5"""))
    else:  # SQLite (development databases): no time zones in SQL, so count in Python
        from collections import Counter
        from datetime import datetime, timezone
        from zoneinfo import ZoneInfo

        def local(value, zone):
            value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(ZoneInfo(zone))

        counts = Counter()
        for clinic_id, doctor_id, status, start, created, zone in bind.execute(sa.text(
                "SELECT a.clinic_id, a.doctor_id, a.status, a.start_at, a.created_at, c.timezone "
                "FROM appointments a JOIN clinics c ON c.id = a.clinic_id")):
            start, booked = local(start, zone), local(created, zone).date()
            for grain, bucket in (('day', booked), ('month', booked.replace(day=1))):
                for metric, key in (('total', 'all'), ('status', status), ('doctor', str(doctor_id)),
                                    ('hour', f"{start.weekday()}:{start.hour:02d}")):
                    counts[(metric, grain, bucket, clinic_id, key)] += 1
        if counts:
            bind.execute(sa.text("INSERT INTO analytics_counters (metric, grain, bucket, clinic_id, key, count) "
                                 "VALUES (:m, :g, :b, :c, :k, :n)"),
                         [dict(m=m, g=g, b=b, c=c, k=k, n=n) for (m, g, b, c, k), n in counts.items()])
    bind.execute(sa.text("INSERT INTO patient_booking_totals (patient_id, count) "
                         "SELECT patient_id, count(*) FROM appointments GROUP BY patient_id"))


def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_patient_created')
        batch_op.drop_index('ix_appointments_created')

    with op.batch_alter_table('patient_booking_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_booking_totals_count')

    op.drop_table('patient_booking_totals')
    op.drop_table('analytics_counters')
