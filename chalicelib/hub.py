"""Wiring: one :class:`Hub` per container, built on first use.

Collaborators (AWS clients, HTTP transport, clock) are injected here and nowhere
else, so tests and the local runtime build a Hub with their own. Each part is
imported when first used: a webhook container never loads the delivery worker,
a worker never loads the ingest path (cold starts pay only for what they run).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from switchboard_sdk import Customer, EventEnvelope, HttpTransport, PluginRegistry, build_plugin_manager

from .logs import configure as configure_logs
from .settings import Settings
from .storage.aws import AwsClients
from .storage.conventions import utc_now as utc_now  # the default clock; tools import it from here

if TYPE_CHECKING:
    from .agents.directory import AgentStore
    from .agents.pool import UserPool
    from .agents.tokens import TokenVerifier
    from .api.access import Access
    from .api.agents import AgentApi
    from .api.aside import AsideApi
    from .api.changes import ChangeApi
    from .api.customer_export import CustomerExportApi
    from .api.customers import CustomerApi
    from .api.deliveries import DeliveryApi
    from .api.macros import MacroApi
    from .api.pii_reads import PiiReads
    from .api.platform import PlatformApi
    from .api.replies import ReplyApi
    from .api.reports import ReportApi
    from .api.rules import RuleApi
    from .api.session import SessionApi
    from .api.sla import SlaApi
    from .api.surveys import SurveyApi
    from .api.templates import TemplateApi
    from .api.tenant_admin import TenantAdminApi
    from .api.tickets import TicketApi
    from .api.visibility import Visibility
    from .api.workflow import TicketWorkflowApi
    from .ingest.ingestor import Ingestor
    from .ingest.objects import StoredObjectHandler
    from .metrics.aggregator import MetricsAggregator
    from .metrics.archive import EventArchive
    from .metrics.tally import Context
    from .outbound.posting import MessagePoster
    from .outbound.sender import ReplySender
    from .pipeline.breaker import CircuitBreakers
    from .pipeline.delivery_log import DeliveryLog
    from .pipeline.dispatch import Dispatcher
    from .pipeline.failures import ObjectFailures, StreamFailures
    from .pipeline.setaside import SetAside
    from .pipeline.stream import StreamProcessor
    from .pipeline.worker import DeliveryWorker
    from .storage.changes import ChangeFeeds
    from .storage.store import TicketStore
    from .tenancy.apikeys import ApiKeys
    from .tenancy.audit import AuditLog
    from .tenancy.ratelimit import RateLimiter
    from .tenancy.retention import TenantRetention
    from .tenancy.tenants import TenantDirectory
    from .tenancy.workflow_settings import WorkflowSettings
    from .workflow.assignment import Assigner
    from .workflow.engine import WorkflowEngine
    from .workflow.rules.references import RuleReferences
    from .workflow.rules.store import RuleCache
    from .workflow.scheduler import Scheduler
    from .workflow.service import WorkflowService
    from .workflow.sla_store import WorkflowConfigCache, WorkflowConfigStore
    from .workflow.survey_flow import SurveyFlow
    from .workflow.surveys import SurveyStore
    from .workflow.template_store import TemplateStore
    from .workflow.triage import RuleRunner


@dataclass
class Hub:
    settings: Settings
    aws: AwsClients
    registry: PluginRegistry
    clock: Callable[[], datetime] = utc_now
    transport: HttpTransport | None = None
    jwks_fetch: Callable[[str], bytes] | None = None  # the user pool's JWKS by URL (default: an HTTP GET)

    @functools.cached_property
    def store(self) -> TicketStore:
        from .storage.store import TicketStore

        return TicketStore(self.aws.dynamodb, self.settings.table_name,
                           index_shards=self.settings.ticket_index_shards, crypto=self.crypto)

    # --- crypto (issue 15) ---
    if TYPE_CHECKING:  # for the annotation below only: imported on first use
        from .crypto.service import Crypto

    @functools.cached_property
    def crypto(self) -> Crypto:
        """Personal fields sealed under KMS data keys cached in this container, blind indexes,
        customers' keys (chalicelib/crypto, docs/encryption.md). Building it calls nothing:
        the KMS client is made on the first seal or open."""
        from .crypto.service import Crypto, LazyClient

        return Crypto(LazyClient(lambda: self.aws.client("kms")), self.aws.dynamodb, self.settings.table_name,
                      self.settings.kms_key_id, self.tenant_kms_key, self.clock,
                      key_table_name=self.settings.key_table_name)

    def tenant_kms_key(self, tenant_id: str) -> str | None:
        """The tenant's own KMS key (bring-your-own-key), from its cached record (none without a record)."""
        from switchboard_sdk import NotFound

        try:
            return self.tenants.get(tenant_id).settings.kms_key_id
        except NotFound:
            return None
    # --- end crypto (issue 15) ---

    @functools.cached_property
    def tenants(self) -> TenantDirectory:
        from .secrets.vault import SecretVault
        from .tenancy.tenants import TenantDirectory

        vault = SecretVault(self.aws.ssm, prefix=self.settings.secret_prefix, clock=self.clock)
        return TenantDirectory(self.aws.dynamodb, self.settings.table_name, self.registry, vault,
                               cache_seconds=self.settings.tenant_cache_seconds)

    @functools.cached_property
    def api_keys(self) -> ApiKeys:
        from .tenancy.apikeys import ApiKeys

        return ApiKeys(self.aws.dynamodb, self.settings.table_name, self.clock)

    @functools.cached_property
    def audit(self) -> AuditLog:
        from .tenancy.audit import AuditLog

        return AuditLog(self.aws.dynamodb, self.settings.table_name, self.clock,
                        retention_days=self.settings.audit_retention_days)

    @functools.cached_property
    def rate_limiter(self) -> RateLimiter:
        from .tenancy.ratelimit import RateLimiter

        return RateLimiter(self.aws.dynamodb, self.settings.table_name, self.clock)

    @functools.cached_property
    def access(self) -> Access:
        from .api.access import Access

        # the rate is read per call, so settings replaced later (tests, a reload) apply
        return Access(self.api_keys, self.tenants,
                      limit=lambda tenant, bucket: self.rate_limiter.check(tenant, bucket, self.settings.api_rate),
                      # agents' tokens: the verifier and the directory load only when a token comes
                      verify_token=lambda token: self.token_verifier.verify(token),
                      load_agent=lambda tenant_id, agent_id: self.agent_store.of(tenant_id).agent(agent_id))

    @functools.cached_property
    def token_verifier(self) -> TokenVerifier:
        """Agents' JWTs, against the user pool's JWKS (cached in this container)."""
        from .agents.tokens import TokenVerifier

        settings = self.settings
        return TokenVerifier(issuer=settings.token_issuer, client_id=settings.cognito_client_id,
                             jwks_url=settings.token_jwks_url, clock=self.clock, fetch=self.jwks_fetch)

    @functools.cached_property
    def user_pool(self) -> UserPool | None:
        """The stack's Cognito user pool (``None`` when the deployment names none)."""
        from .agents.pool import UserPool

        if not (self.settings.cognito_pool_id and self.settings.cognito_client_id):
            return None
        return UserPool(self.aws.client("cognito-idp"), self.settings.cognito_pool_id, self.settings.cognito_client_id)

    @functools.cached_property
    def agent_store(self) -> AgentStore:
        from .agents.directory import AgentStore

        return AgentStore(self.aws.dynamodb, self.settings.table_name)

    @functools.cached_property
    def session_api(self) -> SessionApi:
        """``/v1/session``: agents sign in through the user pool."""
        from .api.session import SessionApi

        return SessionApi(self.user_pool)

    @functools.cached_property
    def agents_api(self) -> AgentApi:
        """``/v1/me``, ``/v1/agents``, ``/v1/groups``."""
        from .api.agents import AgentApi
        from .storage.preferences import PreferenceStore

        return AgentApi(self.access, self.agent_store, self.user_pool, self.audit, self.clock,
                        tenant_of=self.tenants.get,
                        preferences=PreferenceStore(self.aws.dynamodb, self.settings.table_name))

    @functools.cached_property
    def api(self) -> TicketApi:
        from .api.tickets import TicketApi

        return TicketApi(self.access, self.store, self.visibility, self.agent_store, self.clock, pii=self.pii_reads)

    @functools.cached_property
    def pii_reads(self) -> PiiReads:
        """Customers' personal data leaving the API: masked per the tenant's setting, each read audited."""
        from .api.pii_reads import PiiReads

        return PiiReads(self.audit, self.workflow_settings)

    @functools.cached_property
    def customer_export_api(self) -> CustomerExportApi:
        """``/v1/customers/{id}/export``: a subject-access export, admins only, audited per page."""
        from .api.customer_export import CustomerExportApi

        return CustomerExportApi(self.access, self.store, self.pii_reads)

    @functools.cached_property
    def changes_api(self) -> ChangeApi:
        """``/v1/changes``: the console's poll (storage/changes.py)."""
        from .api.changes import ChangeApi

        return ChangeApi(self.access, self.store, self.change_feeds, self.visibility, self.clock)

    @functools.cached_property
    def visibility(self) -> Visibility:
        """Which tickets an agent's role sees (the tenant's ``workflow.visibility``), applied by the store."""
        from .api.visibility import Visibility

        return Visibility(self.workflow_settings)

    @functools.cached_property
    def workflow_api(self) -> TicketWorkflowApi:
        """``PATCH /v1/tickets/{id}``, bulk, merge, history: agents move tickets through the workflow."""
        from .api.workflow import TicketWorkflowApi

        return TicketWorkflowApi(self.access, self.store, self.workflow, self.agent_store, self.clock,
                                 self.visibility)

    @functools.cached_property
    def rules_api(self) -> RuleApi:
        """``/v1/rules``: the tenant's triage and automation rules, versioned and audited."""
        from .api.rules import RuleApi
        from .workflow.rules.store import rule_stores

        return RuleApi(self.access, rule_stores(self.aws.dynamodb, self.settings.table_name), self.audit, self.clock,
                       on_change=self.rule_cache.forget, references=self.rule_references)

    @functools.cached_property
    def rule_references(self) -> RuleReferences:
        """What a saved rule names must exist (one read each)."""
        from .workflow.rules.references import RuleReferences

        agents, config = self.agent_store.of, self.workflow_config.of
        return RuleReferences(
            group=lambda tenant, group_id: agents(tenant).group(group_id) is not None,
            agent=lambda tenant, agent_id: getattr(agents(tenant).agent(agent_id), "status", None) == "active",
            policy=lambda tenant, policy_id: config(tenant).policy(policy_id) is not None,
            template=lambda tenant, code: self.template_store(tenant).template(code) is not None,
            personal_attributes=lambda tenant: self.workflow_settings(tenant).personal_attributes)

    @functools.cached_property
    def rule_cache(self) -> RuleCache:
        """Each tenant's rules, read at most every 30 s per container (the stream evaluates them)."""
        from .workflow.rules.store import RuleCache, rule_stores

        stores = rule_stores(self.aws.dynamodb, self.settings.table_name)
        return RuleCache(lambda tenant_id: stores(tenant_id).rules())

    @functools.cached_property
    def workflow_config(self) -> WorkflowConfigStore:
        """SLA policies and business-hours calendars."""
        from .workflow.sla_store import WorkflowConfigStore

        return WorkflowConfigStore(self.aws.dynamodb, self.settings.table_name)

    @functools.cached_property
    def sla_config_cache(self) -> WorkflowConfigCache:
        from .workflow.sla_store import WorkflowConfigCache

        return WorkflowConfigCache(lambda tenant_id: self.workflow_config.of(tenant_id).load())

    @functools.cached_property
    def sla_api(self) -> SlaApi:
        """``/v1/sla-policies`` and ``/v1/calendars``."""
        from .api.sla import SlaApi

        return SlaApi(self.access, self.workflow_config.of, self.audit, self.clock)

    @functools.cached_property
    def templates_api(self) -> TemplateApi:
        """``/v1/templates`` (话术库) and ``/v1/macros``."""
        from .api.templates import TemplateApi

        return TemplateApi(self.access, self.template_store, self.audit, self.clock, self.store.reads,
                           tenant_language=self.tenant_language)

    def template_store(self, tenant_id: str) -> TemplateStore:
        from .storage.keys import TenantKeys
        from .workflow.template_store import TemplateStore

        return TemplateStore(self.aws.dynamodb, self.settings.table_name, TenantKeys(tenant_id))

    def tenant_language(self, tenant_id: str) -> str:
        return self.tenants.get(tenant_id).settings.language

    @functools.cached_property
    def poster(self) -> MessagePoster:
        """Messages the hub posts on tickets: agents' replies and notes, macros', rules', surveys'."""
        from .outbound.posting import MessagePoster

        return MessagePoster(self.store, self.retention, self.clock)

    @functools.cached_property
    def macros_api(self) -> MacroApi:
        """``POST /v1/tickets/{id}/macros/{macro_id}``."""
        from .api.macros import MacroApi

        return MacroApi(self.access, self.store, self.workflow, self.template_store, self.poster,
                        self.tenant_language, self.clock, self.visibility)

    @functools.cached_property
    def customers_api(self) -> CustomerApi:
        """``PATCH /v1/customers/{id}``, merge and unmerge."""
        from .api.customers import CustomerApi

        return CustomerApi(self.access, self.store, self.audit, self.clock, pii=self.pii_reads)

    @functools.cached_property
    def survey_store(self) -> SurveyStore:
        from .workflow.surveys import SurveyStore

        return SurveyStore(self.aws.dynamodb, self.settings.table_name)

    @functools.cached_property
    def link_key(self) -> bytes:
        """Signs survey links (SSM, made on first use)."""
        from .secrets.link_key import link_signing_key

        return link_signing_key(self.aws.ssm, self.settings.secret_prefix)

    @functools.cached_property
    def surveys_api(self) -> SurveyApi:
        """``GET /v1/tickets/{id}/survey`` and the signed links ``/csat/{token}``."""
        from .api.surveys import SurveyApi

        return SurveyApi(self.access, self.survey_store, lambda: self.link_key,
                         lambda tenant_id: self.tenants.get(tenant_id).settings.surveys, self.clock)

    @functools.cached_property
    def replies_api(self) -> ReplyApi:
        """``/v1/tickets/{id}/messages``: agents' replies and notes, stored for the worker to send."""
        from .api.replies import ReplyApi

        return ReplyApi(self.access, self.store, self.retention, self.clock, self.visibility)

    @functools.cached_property
    def platform_api(self) -> PlatformApi:
        from .api.platform import PlatformApi

        return PlatformApi(self.access, self.tenants, self.api_keys, self.audit, self.clock)

    @functools.cached_property
    def tenant_admin_api(self) -> TenantAdminApi:
        from .api.tenant_admin import TenantAdminApi

        return TenantAdminApi(self.access, self.tenants, self.registry, self.api_keys, self.audit,
                              eraser=self.erase_customer)

    def erase_customer(self, tenant_id: str, customer_id: str) -> dict[str, Any]:
        """Erase one customer's personal data (chalicelib.tenancy.erasure); the report counts by kind."""
        from .storage.payloads import PayloadArchive
        from .tenancy.erasure import CustomerEraser

        eraser = CustomerEraser(self.store, PayloadArchive(self.aws.s3, self.settings.bucket), self.clock,
                                forget_metrics=lambda tenant, ticket: self.metrics.table(tenant).forget(ticket))
        return eraser.erase(tenant_id, customer_id).as_dict()

    @functools.cached_property
    def deliveries_api(self) -> DeliveryApi:
        from .api.deliveries import DeliveryApi
        from .pipeline.replay import Replayer

        replayer = Replayer(self.aws.sqs, self.settings.queue_url, self.settings.dlq_url, self.store,
                            self.delivery_log)
        return DeliveryApi(self.access, self.delivery_log, replayer, self.audit)

    @functools.cached_property
    def ingestor(self) -> Ingestor:
        from .ingest.ingestor import Ingestor
        from .storage.payloads import PayloadArchive

        rate = self.settings.webhook_rate
        return Ingestor(
            settings=self.settings, registry=self.registry, tenants=self.tenants, store=self.store,
            archive=PayloadArchive(self.aws.s3, self.settings.bucket, self.settings.kms_key_id),
            rate_limit=lambda tenant_id: self.rate_limiter.check(tenant_id, "webhook", rate),
        )

    @functools.cached_property
    def stored_objects(self) -> StoredObjectHandler:
        from .ingest.objects import StoredObjectHandler

        return StoredObjectHandler(self.ingestor, self.aws.s3, self.clock)

    @functools.cached_property
    def stream(self) -> StreamProcessor:
        from .pipeline.conversations import ConversationBuilder
        from .pipeline.stream import StreamProcessor

        return StreamProcessor(ConversationBuilder(self.store, self.retention), self.dispatcher, self.set_aside,
                               workflow=self.workflow_engine, changes=self.change_feeds,
                               metrics=self.metrics, archive=self.event_archive,
                               assistant=self.assistant_jobs)

    # -- KPIs (chalicelib/metrics): aggregates kept by the stream, the reports, the event archive --

    @functools.cached_property
    def metrics(self) -> MetricsAggregator:
        from .metrics.aggregator import MetricsAggregator

        return MetricsAggregator(self.store, self.metrics_context)

    def metrics_context(self, tenant_id: str) -> Context:
        """The tenant's time zone and business hours (its default calendar), as the KPIs count them."""
        from zoneinfo import ZoneInfo

        from .metrics.tally import Context

        calendar_id = self.workflow_settings(tenant_id).default_calendar_id
        calendar = self.sla_config_cache.get(tenant_id).calendars.get(calendar_id) if calendar_id else None
        return Context(ZoneInfo(self.tenants.get(tenant_id).settings.time_zone),
                       None if calendar is None else calendar.business_seconds_between)

    @functools.cached_property
    def event_archive(self) -> EventArchive:
        from .metrics.archive import EventArchive

        return EventArchive(self.aws.s3, self.settings.bucket,
                            lambda tenant_id: self.retention.for_tenant(tenant_id).message_days,
                            kms_key_id=self.settings.kms_key_id)

    @functools.cached_property
    def reports_api(self) -> ReportApi:
        """``/v1/reports/...`` (chalicelib/api/reports.py)."""
        from .api.reports import ReportApi

        return ReportApi(self.access, self.metrics.table, self.agent_store, self.tenants, self.clock)

    @functools.cached_property
    def change_feeds(self) -> ChangeFeeds:
        """Which tickets changed, per tenant (the console's poll): noted by the stream, read by the API."""
        from .storage.changes import ChangeFeeds

        return ChangeFeeds(self.aws.dynamodb, self.settings.table_name, self.clock)

    @functools.cached_property
    def workflow(self) -> WorkflowService:
        """Every change of a ticket's workflow fields goes through here (chalicelib/workflow/service.py)."""
        from .workflow.service import WorkflowService
        from .workflow.sla_planning import SlaPlanner
        from .workflow.triage import time_rules_of

        planner = SlaPlanner(self.sla_config_cache, self.workflow_settings, self.customer_of)
        return WorkflowService(self.store, self.workflow_settings, plan_sla=planner,
                               time_rules=lambda tenant_id: time_rules_of(self.rule_cache.rules(tenant_id)))

    def customer_of(self, tenant_id: str, customer_id: str) -> Customer | None:
        return self.store.reads(tenant_id).get_customer(customer_id)

    @functools.cached_property
    def dispatcher(self) -> Dispatcher:
        """Store changes → delivery jobs for the tenant's connectors."""
        from .pipeline.dispatch import Dispatcher

        return Dispatcher(self.tenants, self.aws.sqs, self.settings.queue_url, crypto=self.crypto)

    @functools.cached_property
    def rule_runner(self) -> RuleRunner:
        """The tenant's rules behind the stream and the scheduler, with their side effects."""
        from .workflow.triage import RuleEffects, RuleRunner

        effects = RuleEffects(self.store, self.poster, self.template_store, self.dispatcher.notify, self.clock,
                              self.tenant_language,
                              lambda tenant_id: self.workflow_settings(tenant_id).personal_attributes)
        return RuleRunner(self.rule_cache.rules, self.customer_of, effects, self.business_hours)

    def business_hours(self, tenant_id: str) -> Callable[[datetime], bool] | None:
        """The tenant's default calendar's ``is_open`` (rules' ``within_business_hours``)."""
        calendar_id = self.workflow_settings(tenant_id).default_calendar_id
        calendar = self.sla_config_cache.get(tenant_id).calendars.get(calendar_id) if calendar_id else None
        return None if calendar is None else calendar.is_open

    def workflow_settings(self, tenant_id: str) -> WorkflowSettings:
        """The tenant's workflow settings (cached with the tenant directory)."""
        return self.tenants.get(tenant_id).settings.workflow

    @functools.cached_property
    def scheduler(self) -> Scheduler:
        """The timers' scheduled function: SLA warnings/breaches, auto-close, surveys."""
        from .workflow.scheduler import Scheduler
        from .workflow.timers import TimerHandlers
        from .workflow.triage import TimeRules

        handlers = TimerHandlers(self.store, self.workflow, self.workflow_settings,
                                 extra={"rule": TimeRules(self.rule_runner, self.workflow, self.store),
                                        "survey": self.survey_flow.send})
        return Scheduler(self.aws.dynamodb, self.settings.table_name, handlers.handlers(), self.clock)

    @functools.cached_property
    def workflow_engine(self) -> WorkflowEngine:
        """The workflow behind the stream: messages move tickets on, changes have consequences."""
        from .workflow.engine import WorkflowEngine
        from .workflow.reactions import Reactions
        from .workflow.routing import Routing
        from .workflow.triage import UpdatedRules

        flow, routing = self.survey_flow, Routing(self.assigner)
        updated_rules = UpdatedRules(self.rule_runner, self.workflow, self.store)
        reactions = Reactions(self.store, listeners=[updated_rules, flow.on_change, routing.on_change])
        return WorkflowEngine(self.workflow, reactions, rules=self.rule_runner.triage, surveys=flow.answer,
                              on_survey_change=flow.on_survey, on_agent_change=routing.on_agent,
                              assign=lambda tenant_id, ticket_id, ticket: self.assigner.assign(
                                  tenant_id, ticket_id, known=ticket),
                              held=self.assistant_holds)

    @functools.cached_property
    def assigner(self) -> Assigner:
        """Fair, concurrency-safe assignment to online agents with room (chalicelib/workflow/assignment.py)."""
        from .workflow.assignment import Assigner

        return Assigner(self.store, self.agent_store, self.workflow, self.clock)

    @functools.cached_property
    def survey_flow(self) -> SurveyFlow:
        """回访: surveys scheduled when solved, sent by the timer, answers recorded, low scores followed up."""
        from .workflow.survey_flow import SurveyFlow

        return SurveyFlow(self.store, self.survey_store, self.workflow, self.poster,
                          lambda tenant_id: self.tenants.get(tenant_id).settings.surveys, lambda: self.link_key,
                          self.public_base_url, self.announce)

    def public_base_url(self, tenant_id: str) -> str:
        """Where links to the hub point: the tenant's own base URL, else the deployment's."""
        return (self.tenants.get(tenant_id).settings.public_base_url or self.settings.public_url).rstrip("/")

    def announce(self, event: EventEnvelope) -> None:
        """An event for every connector the tenant enabled (``csat.received``)."""
        self.dispatcher.enqueue([event])

    @functools.cached_property
    def set_aside(self) -> SetAside:
        """Stream records and stored objects that can never be processed, per tenant: list
        and replay (``set_aside.replay(tenant_id, hub.stream.process, objects=hub.stored_objects.process)``)."""
        from .pipeline.setaside import SetAside

        return SetAside(self.aws.dynamodb, self.settings.table_name, self.clock)

    @functools.cached_property
    def stream_failures(self) -> StreamFailures:
        """StreamFailureQueue's consumer: stream batches Lambda gave up on, read back and set aside."""
        from .pipeline.failures import StreamFailures

        return StreamFailures(self.aws.client("dynamodbstreams"), self.set_aside)

    @functools.cached_property
    def object_failures(self) -> ObjectFailures:
        """ObjectFailureQueue's consumer: stored objects Lambda gave up on, set aside."""
        from .pipeline.failures import ObjectFailures

        return ObjectFailures(self.set_aside)

    @functools.cached_property
    def aside_api(self) -> AsideApi:
        """``/v1/stream/aside``: list, and replay through the stream and stored-object handlers."""
        from .api.aside import AsideApi

        return AsideApi(self.access, self.set_aside, self.audit,
                        stream=lambda records: self.stream.process(records),
                        objects=lambda event: self.stored_objects.process(event))

    @functools.cached_property
    def worker(self) -> DeliveryWorker:
        from .pipeline.worker import DeliveryWorker

        return DeliveryWorker(
            settings=self.settings, registry=self.registry, tenants=self.tenants, store=self.store,
            sqs=self.aws.sqs, clock=self.clock, transport=self.outbound_transport,
            delivery_log=self.delivery_log, breakers=self.breakers, sender=self.reply_sender,
        )

    @functools.cached_property
    def breakers(self) -> CircuitBreakers:
        """Per (tenant, endpoint): a connector, or ``send:<channel>`` for replies."""
        from .pipeline.breaker import CircuitBreakers

        return CircuitBreakers(self.aws.dynamodb, self.settings.table_name, self.clock,
                               threshold=self.settings.breaker_threshold,
                               cooldown=timedelta(seconds=self.settings.breaker_cooldown_seconds))

    @functools.cached_property
    def outbound_transport(self) -> HttpTransport:
        from switchboard_sdk.transport import Urllib3Transport

        # tenants choose the URLs: the transport refuses internal addresses unless the operator allowed them
        return self.transport or Urllib3Transport(policy=self.settings.outbound_policy)

    @functools.cached_property
    def reply_sender(self) -> ReplySender:
        """Sends replies through their ticket's channel (send jobs on the delivery queue)."""
        from .outbound.sender import ReplySender
        from .outbound.tokens import TableTokens
        from .pipeline.worker import backoff_seconds
        from .storage.keys import TenantKeys

        settings = self.settings
        return ReplySender(
            settings=settings, registry=self.registry, tenants=self.tenants, store=self.store, clock=self.clock,
            transport=self.outbound_transport, breakers=self.breakers,
            backoff=lambda attempt, after: backoff_seconds(attempt, after, base=settings.retry_base_seconds,
                                                           ceiling=settings.retry_max_seconds),
            tokens=lambda tenant_id, channel: TableTokens(self.aws.dynamodb, settings.table_name,
                                                          TenantKeys(tenant_id), channel, self.clock),
            aws=self.aws.client,
        )

    @functools.cached_property
    def delivery_log(self) -> DeliveryLog:
        from .pipeline.delivery_log import DeliveryLog

        return DeliveryLog(self.aws.dynamodb, self.settings.table_name,
                           retention_days=self.settings.delivery_log_days,
                           shards=self.settings.ticket_index_shards, retention=self.retention)

    @functools.cached_property
    def retention(self) -> TenantRetention:
        from .tenancy.retention import TenantRetention

        return TenantRetention(self.tenants)

    # -- the assistant: knowledge base and training (chalicelib/assistant/) --
    if TYPE_CHECKING:  # for the annotations below only: each part is imported on first use
        from .api.knowledge import KnowledgeApi
        from .assistant.help_centre import HelpCentre
        from .assistant.knowledge_store import KnowledgeStore
        from .assistant.models_store import AssistantModels
        from .assistant.training import AssistantTrainer, TrainingQueue
        from .assistant.training_state import ModelRecords

    @functools.cached_property
    def assistant_models(self) -> AssistantModels:
        """``current(tenant_id) -> CurrentModel | None``: the tenant's trained model, loaded and
        cached in this container (pointer re-read at most every 30 s; each model loaded once;
        chalicelib/assistant/models_store.py)."""
        from .assistant.models_store import AssistantModels

        return AssistantModels(self.tenants, self.registry, self.model_records, self.aws.s3, self.settings.bucket,
                               pointer_seconds=self.settings.model_pointer_seconds)

    def assistant_enabled(self, tenant_id: str) -> bool:
        """Whether the tenant enabled an assistant: the cached tenant record only, no AWS call
        when it is fresh (the stream skips tenants without one)."""
        return self.assistant_models.enabled(tenant_id)

    def model_records(self, tenant_id: str) -> ModelRecords:
        """The tenant's model pointer and training state (chalicelib/assistant/training_state.py)."""
        from .assistant.training_state import ModelRecords
        from .storage.keys import TenantKeys

        return ModelRecords(self.aws.dynamodb, self.settings.table_name, TenantKeys(tenant_id))

    def knowledge_store(self, tenant_id: str) -> KnowledgeStore:
        """The tenant's knowledge base (chalicelib/assistant/knowledge_store.py)."""
        from .assistant.knowledge_store import KnowledgeStore
        from .storage.keys import TenantKeys

        return KnowledgeStore(self.aws.dynamodb, self.settings.table_name, TenantKeys(tenant_id))

    @functools.cached_property
    def training_queue(self) -> TrainingQueue:
        """Sends a training job per knowledge change (SWITCHBOARD_TRAINING_QUEUE_URL)."""
        from .assistant.training import TrainingQueue

        return TrainingQueue(self.aws.sqs, self.settings.training_queue_url, self.model_records, self.clock)

    @functools.cached_property
    def assistant_trainer(self) -> AssistantTrainer:
        """``train_assistants``: a job → the tenant's model trained, stored in S3, its pointer swapped."""
        from .assistant.training import AssistantTrainer

        return AssistantTrainer(self.tenants, self.registry, self.knowledge_store, self.model_records, self.aws.s3,
                                self.settings.bucket, self.clock)

    @functools.cached_property
    def knowledge_api(self) -> KnowledgeApi:
        """``/v1/knowledge/...`` (chalicelib/api/knowledge.py)."""
        from .api.knowledge import KnowledgeApi

        return KnowledgeApi(self.access, self.knowledge_store, self.model_records, self.training_queue, self.tenants,
                            self.audit, self.clock)

    @functools.cached_property
    def help_centre(self) -> HelpCentre:
        """``GET /help/{tenant}``: the public FAQ page (chalicelib/assistant/help_centre.py)."""
        from .assistant.help_centre import HelpCentre

        rate = self.settings.api_rate
        return HelpCentre(self.tenants, self.knowledge_store, self.assistant_models, self.registry,
                          limit=lambda tenant_id: self.rate_limiter.check(tenant_id, "help", rate))

    # -- end of the assistant: knowledge base and training --

    # -- the assistant: answering (chalicelib/assistant/) --

    @functools.cached_property
    def assistant_responder(self) -> Any:
        """``AssistantResponder`` (chalicelib/assistant/responder.py): ``process`` (the
        ``answer_customers`` function), ``dead_letters``, and the widget's ``feedback`` and
        ``hand_off``."""
        from .assistant.handoff import Voice
        from .assistant.responder import AssistantResponder

        return AssistantResponder(self.store, self.workflow, self.workflow_engine, Voice(self.poster), self.registry,
                                  lambda tenant_id: self.assistant_models.current(tenant_id), self.tenant_language,
                                  self.clock)

    @functools.cached_property
    def assistant_jobs(self) -> Any:
        """The stream's ``AssistantHooks`` (chalicelib/assistant/jobs.py): customers' messages of
        tenants with an assistant, queued once per batch; ``None`` without an answering queue."""
        from .assistant.jobs import AssistantJobs

        url = self.settings.assistant_queue_url
        return AssistantJobs(self.aws.sqs, url, self.assistant_enabled) if url else None

    def assistant_holds(self, message: Any, ticket: Any) -> bool:
        """The workflow engine's ``held``: the tenant's assistant answers this message's channel
        with a trained model, so its ``new`` ticket waits for it instead of being routed."""
        from .assistant.responder import holds

        return holds(self.assistant_models.trained_config, message)

    # -- end of the assistant: answering --

    # -- the web chat widget (chalicelib/widget/) --
    if TYPE_CHECKING:  # for the annotations below only: each part is imported on first use
        from .widget.actions import AssistantActions
        from .widget.script import WidgetScript
        from .widget.service import WidgetApi

    @functools.cached_property
    def widget(self) -> WidgetApi:
        """``/widget/{tenant}/...``: visitors' sessions, messages (through the ingestor), the poll,
        uploads, CSAT and the assistant's buttons (chalicelib/widget/service.py)."""
        from .widget.actions import VisitorActions
        from .widget.conversation import Conversations, lookup_for
        from .widget.service import WidgetApi
        from .widget.uploads import Uploads

        conversations = Conversations(self.store, self.change_feeds, self.survey_store,
                                      lookup_for(self.store), self.clock)
        return WidgetApi(
            settings=self.settings, tenants=self.tenants, clock=self.clock,
            limit=lambda tenant_id, bucket, rate: self.rate_limiter.check(tenant_id, bucket, rate),
            ingest=lambda request: self.ingestor.handle(request), conversations=conversations,
            uploads=Uploads(self.aws.s3, self.settings.bucket, self.settings.widget_upload_max_bytes),
            actions=VisitorActions(self.store, self.survey_store, conversations, self.widget_assistant, self.clock))

    def widget_assistant(self, tenant_id: str) -> AssistantActions | None:
        """The assistant behind the widget's "Did this help?" and "Talk to a person" (None: the
        tenant has none, so its tickets are with people already)."""
        from .widget.actions import AssistantActions

        responder: AssistantActions = self.assistant_responder
        return responder if self.assistant_enabled(tenant_id) else None

    @functools.cached_property
    def widget_script(self) -> WidgetScript:
        """``GET /widget.js`` from this package (chalicelib/widget/static, built by ``make widget``)."""
        from .widget.script import WidgetScript

        return WidgetScript()

    # -- end of the web chat widget --


def build_hub(settings: Settings | None = None, **overrides: Any) -> Hub:
    settings = settings or Settings.from_env()
    # Lambda's root logger stops at WARNING; our structured INFO lines matter. In Lambda the
    # runtime's root handler (the one that prints) gets the JSON formatter
    configure_logs(settings.log_level, handlers=logging.getLogger().handlers if settings.log_json else ())
    registry = build_plugin_manager(allowlist=settings.plugin_allowlist)
    aws = AwsClients(region=settings.region, endpoint=settings.aws_endpoint)
    return Hub(settings=settings, aws=aws, registry=registry, **overrides)


_hub: Hub | None = None


def get_hub() -> Hub:
    """The container's hub (plugins discovered and checked on first call)."""
    global _hub
    if _hub is None:
        _hub = build_hub()
    return _hub


def set_hub(hub: Hub | None) -> None:
    """Install a hub built elsewhere (local runtime, tests); ``None`` resets."""
    global _hub
    _hub = hub
