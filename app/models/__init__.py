"""All models, imported here so Alembic and the app see one metadata."""

from app.models.audit import AuditLog, FormSubmission
from app.models.customer import (
    GENDERS,
    IDENTITY_KINDS,
    STAGE_CODES,
    STAGE_LABELS,
    STAGES,
    Customer,
    CustomerIdentity,
)
from app.models.enrichment import EnrichmentState
from app.models.mini_session import MiniSession
from app.models.notice import (
    NOTICE_STATUSES,
    TICKET_KINDS,
    MaintenancePlan,
    Notice,
    ServiceTicket,
    Task,
)
from app.models.org import ROLE_LABELS, ROLES, ApiToken, Staff, Store
from app.models.progress import ChangeOrder, Invite, NodeRejection, PhotoUpload, ProgressEntry
from app.models.project import (
    NODE_STATUS_LABELS,
    NodeTemplate,
    Project,
    ProjectMember,
    ProjectNode,
)
from app.models.referral import (
    CREDIT_KINDS,
    REFERRAL_STATUS_LABELS,
    STEP_CODES,
    STEP_LABELS,
    CreditAccount,
    CreditEntry,
    Redemption,
    Referral,
    ReferralCode,
)
from app.models.sales import (
    FOLLOWUP_METHODS,
    AssignRule,
    FollowUp,
    Lead,
    LeadMove,
    SalesRep,
)
from app.models.tag import CustomerTag, Tag, TaggingState, TagRule
from app.models.timeline import CHANNELS, DIRECTIONS, TimelineEvent
from app.models.trace import (
    Material,
    MaterialBatch,
    MaterialDelivery,
    Supplier,
    TraceCode,
    TraceScan,
)
from app.models.value import VALUE_LABELS, VALUE_LEVELS, CustomerValue
from app.models.wechat import AutoReplyRule, CallbackEvent, ContactRelation, MessageConsent

__all__ = [
    "CHANNELS",
    "CREDIT_KINDS",
    "REFERRAL_STATUS_LABELS",
    "STEP_CODES",
    "STEP_LABELS",
    "CreditAccount",
    "CreditEntry",
    "Redemption",
    "Referral",
    "ReferralCode",
    "DIRECTIONS",
    "NOTICE_STATUSES",
    "TICKET_KINDS",
    "GENDERS",
    "NODE_STATUS_LABELS",
    "IDENTITY_KINDS",
    "ROLES",
    "ROLE_LABELS",
    "STAGES",
    "STAGE_CODES",
    "STAGE_LABELS",
    "ApiToken",
    "AuditLog",
    "FormSubmission",
    "AutoReplyRule",
    "CallbackEvent",
    "ChangeOrder",
    "ContactRelation",
    "Customer",
    "MaintenancePlan",
    "Notice",
    "ServiceTicket",
    "Task",
    "CustomerIdentity",
    "CustomerTag",
    "EnrichmentState",
    "Invite",
    "MessageConsent",
    "MiniSession",
    "NodeRejection",
    "PhotoUpload",
    "NodeTemplate",
    "ProgressEntry",
    "Project",
    "ProjectMember",
    "ProjectNode",
    "Staff",
    "Store",
    "Tag",
    "TagRule",
    "TaggingState",
    "TimelineEvent",
    "Material",
    "MaterialBatch",
    "MaterialDelivery",
    "Supplier",
    "TraceCode",
    "TraceScan",
    "VALUE_LABELS",
    "VALUE_LEVELS",
    "CustomerValue",
    "FOLLOWUP_METHODS",
    "AssignRule",
    "FollowUp",
    "Lead",
    "LeadMove",
    "SalesRep",
]
