"""What runs when: every hook of the app, in one place, in the order it runs.

The points are documented in app.core.hooks; a domain fires a point, and the functions
listed here react. Adding a reaction is a line here, not an import side effect.
"""

from __future__ import annotations

from flask import Flask

from app.core import hooks
from app.services.inbound import rep_alerts
from app.services.notices import outbox
from app.services.projects import projects
from app.services.referrals import attribution, lifecycle
from app.services.referrals import merge as referral_merge
from app.services.sales import assignment, sla
from app.services.sales import merge as sales_merge
from app.services.tagging import tagging
from app.services.value import value

HOOKS = {
    # A stored inbound message or event, once the customer's profile is refreshed.
    "event_enriched": (
        tagging.tag_event,  # intent tags with their evidence
        rep_alerts.alert_owner,  # the owning rep hears of an official-account message in WeCom
        value.on_event,  # customer value: engagement in the last 90 days
        attribution.on_event,  # a follow, scan or WeCom add naming r_<code>: a referral
        sla.on_event,  # a new customer's first message starts the response clock
    ),
    # Two customer records turned out to be one person: the older one keeps everything.
    "customers_merged": (
        projects.move_rows,  # projects, members, invites
        outbox.on_merge,  # notices, consents, tasks
        value.on_merge,  # the kept customer's value assessed again
        referral_merge.on_merge,  # referrals and credits; a self-referral revealed: reversed
        sales_merge.on_merge,  # the lead, its follow-ups and moves
    ),
    # WeChat's report on a template or subscribe message we sent.
    "delivery_reported": (outbox.on_delivery,),
    # The customer moved to another lifecycle stage.
    "stage_changed": (
        value.on_stage_changed,
        lifecycle.on_stage_changed,  # the referee's referral step; 签约 rewards the referrer
    ),
    # A customer's intent tags changed (the budget tier is an input of its value).
    "customer_tags_changed": (value.on_tags_changed,),
    # A new customer came in (first contact, or a lead form): the rules give it a rep.
    "lead_created": (assignment.on_lead_created,),
}


def init_app(_app: Flask) -> None:
    hooks.install(HOOKS)
