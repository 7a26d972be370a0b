"""The car a call was about (issue 15): its make, and its model or the name heard.

`car_make` is the make of a car the line has notes for ("Nissan"), or "unknown" (a car
without notes, "other", "I don't know"); `car_model` is the model ("Leaf") or, for a car
without notes, the name the caller gave ("Polestar 2"). Both empty: no car was named.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("car_make", sa.String(32)))
        batch.add_column(sa.Column("car_model", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("car_model")
        batch.drop_column("car_make")
