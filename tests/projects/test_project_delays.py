"""Delayed nodes: flagged in the API, and one alert row per node per day from the hourly job."""

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from app.core.extensions import db
from app.models import TimelineEvent
from jobs import projects as project_jobs
from jobs.schedule import SCHEDULE
from tests.projects.helpers import node_ids, set_status

# Nodes are planned 2026-03-10..16, 17..23, ...; the second node ends 2026-03-23.
MARCH_25 = datetime(2026, 3, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _alerts():
    return list(db.session.scalars(select(TimelineEvent).filter_by(kind="node_delayed")))


def test_late_nodes_are_flagged_and_alerted_once_a_day(site):
    first = node_ids(site)[0]
    set_status(site, first, "in_progress")
    with time_machine.travel(MARCH_25, tick=False):
        detail = site.client.get(f"/api/v1/projects/{site.project['id']}", headers=site.pm_h).json
        assert [n["delayed"] for n in detail["nodes"][:3]] == [True, True, False]
        assert detail["delayed"] is True
        assert project_jobs.flag_delayed_nodes() == 2
        assert project_jobs.flag_delayed_nodes() == 0  # the next hour: nothing new
    alerts = _alerts()
    assert {a.payload["node"] for a in alerts} == {"开工交底", "水电改造"}
    assert alerts[0].payload["days_late"] == 9 and alerts[0].payload["notify"] == ["pm", "manager"]
    with time_machine.travel(MARCH_25.replace(day=31), tick=False):
        assert project_jobs.flag_delayed_nodes() == 3  # a new day, and 水电验收 is now late too
    assert len(_alerts()) == 5


def test_accepted_nodes_are_not_delayed(site):
    from app.models import ProjectNode

    node = db.session.get(ProjectNode, node_ids(site)[0])
    node.status = "accepted"
    db.session.commit()
    with time_machine.travel(MARCH_25, tick=False):
        detail = site.client.get(f"/api/v1/projects/{site.project['id']}", headers=site.pm_h).json
        assert detail["nodes"][0]["delayed"] is False
        assert project_jobs.flag_delayed_nodes() == 1


def test_the_job_is_scheduled_hourly():
    entry = next(e for e in SCHEDULE if e["func"] == "jobs.projects:flag_delayed_nodes")
    assert entry["trigger"] == "interval" and entry["hours"] == 1
