"""The stack's edge and data key in infra/template.json (issue 15; docs/deploy.md#6-the-edge):
the WAF web ACL and its rules, the custom domain's TLS policy, the KMS key, its alias and
policy, the bucket's default encryption. What moto can deploy (the key, the bucket) is
deployed and used; WAF and API Gateway domain names exist only in the packaged template
(cfn-lint checks it: tests/test_packaging.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.settings import Settings
from chalicelib.storage.aws import AwsClients
from tools.provision import NOT_EMULATED, TEMPLATE, deploy_stateful, settings_for, stateful_template

TEMPLATE_JSON: dict[str, Any] = json.loads(TEMPLATE.read_text())
RESOURCES: dict[str, Any] = TEMPLATE_JSON["Resources"]
MAX_BODY = 1048576  # SWITCHBOARD_MAX_BODY_BYTES in .chalice/config.json
ON_FAILURE = ("StreamFailures", "ObjectFailures")  # their entries hold no personal data: no key for them


def rules() -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in RESOURCES["ApiWebAcl"]["Properties"]["Rules"]}


def hooks_match(statement: dict[str, Any]) -> bool:
    match = statement["ByteMatchStatement"]
    return bool(match["FieldToMatch"] == {"UriPath": {}} and match["PositionalConstraint"] == "CONTAINS"
                and match["SearchString"] == "/hooks/")


# -- WAF --------------------------------------------------------------------------------------


def test_the_web_acl_is_regional_allows_by_default_and_is_switched_by_enable_waf() -> None:
    acl = RESOURCES["ApiWebAcl"]
    assert acl["Type"] == "AWS::WAFv2::WebACL"
    assert acl["Condition"] == "WafEnabled"
    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    assert TEMPLATE_JSON["Parameters"]["EnableWaf"]["Default"] == "true"
    assert TEMPLATE_JSON["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    priorities = [rule["Priority"] for rule in acl["Properties"]["Rules"]]
    assert len(set(priorities)) == len(priorities)
    for rule in [acl["Properties"], *acl["Properties"]["Rules"]]:
        seen = rule["VisibilityConfig"]
        assert seen["CloudWatchMetricsEnabled"] is True
        assert seen["SampledRequestsEnabled"] is True


def test_the_managed_rule_groups_run_and_the_common_groups_body_cap_only_counts() -> None:
    common, bad = rules()["AWSManagedRulesCommonRuleSet"], rules()["AWSManagedRulesKnownBadInputsRuleSet"]
    assert bad["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    assert bad["OverrideAction"] == common["OverrideAction"] == {"None": {}}
    group = common["Statement"]["ManagedRuleGroupStatement"]
    # the group's own 8 KB body rule would refuse bodies the hub takes (up to 1 MB)
    assert group["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    # signed provider webhooks carry customers' text and HTML as is: the body rules would misread them
    assert hooks_match(group["ScopeDownStatement"]["NotStatement"]["Statement"])


def test_rate_limits_count_per_source_ip_over_five_minutes() -> None:
    api, hooks = rules()["RatePerIp"]["Statement"]["RateBasedStatement"], rules()["HookRatePerIp"]
    hooks_rate = hooks["Statement"]["RateBasedStatement"]
    assert (api["AggregateKeyType"], api["EvaluationWindowSec"], api["Limit"]) == ("IP", 300, {"Ref": "WafRateLimit"})
    assert hooks_rate["Limit"] == {"Ref": "WafHookRateLimit"}
    assert hooks_rate["AggregateKeyType"] == "IP"
    assert hooks_match(api["ScopeDownStatement"]["NotStatement"]["Statement"])
    assert hooks_match(hooks_rate["ScopeDownStatement"])
    assert rules()["RatePerIp"]["Action"] == hooks["Action"] == {"Block": {}}
    assert TEMPLATE_JSON["Parameters"]["WafRateLimit"]["Default"] == 2000


def test_the_body_size_rule_blocks_exactly_the_declared_lengths_over_the_hubs_limit() -> None:
    rule = rules()["BodyOverHubLimit"]
    statement = rule["Statement"]["RegexMatchStatement"]
    assert rule["Action"] == {"Block": {}}
    assert statement["FieldToMatch"] == {"SingleHeader": {"Name": "content-length"}}
    over = re.compile(statement["RegexString"])
    lengths = [*range(MAX_BODY - 1500, MAX_BODY + 1500), 0, 7, 8192, 65536, 999_999, 9_999_999, 10**8, 2**31]
    assert [n for n in lengths if bool(over.match(str(n))) != (n > MAX_BODY)] == []
    assert over.match("0001048577")
    assert not over.match("0001048576")
    assert not over.match("1048577x")
    assert not over.match("")


def test_the_web_acl_is_attached_to_the_api_stage() -> None:
    association = RESOURCES["ApiWebAclAssociation"]
    assert association["Type"] == "AWS::WAFv2::WebACLAssociation"
    assert association["Condition"] == "WafEnabled"
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    prefix, stage = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    assert prefix["Fn::Sub"].endswith("::/restapis/${RestAPI}/stages/")
    assert stage == {"Ref": "RestAPI.Stage"}


# -- TLS ----------------------------------------------------------------------------------------


def test_the_custom_domain_is_regional_with_a_tls_1_3_policy_when_a_domain_and_certificate_are_given() -> None:
    domain, mapping = RESOURCES["ApiDomain"], RESOURCES["ApiDomainMapping"]
    assert domain["Condition"] == mapping["Condition"] == "HasCustomDomain"
    properties = domain["Properties"]
    assert properties["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert properties["RegionalCertificateArn"] == {"Ref": "CertificateArn"}
    assert properties["SecurityPolicy"] == {"Ref": "TlsSecurityPolicy"}
    policy = TEMPLATE_JSON["Parameters"]["TlsSecurityPolicy"]
    assert policy["Default"] == "SecurityPolicy_TLS13_1_3_2025_09"
    assert "TLS_1_0" not in policy["AllowedValues"]
    # an enhanced (SecurityPolicy_*) policy needs an endpoint access mode; the legacy TLS_1_2 takes none
    assert properties["EndpointAccessMode"]["Fn::If"][0] == "EnhancedTlsPolicy"
    assert TEMPLATE_JSON["Parameters"]["TlsEndpointAccessMode"]["Default"] == "STRICT"
    assert mapping["Properties"] == {"DomainName": {"Ref": "ApiDomain"}, "RestApiId": {"Ref": "RestAPI"},
                                     "Stage": {"Ref": "RestAPI.Stage"}}
    both = TEMPLATE_JSON["Conditions"]["HasCustomDomain"]["Fn::And"]
    assert [c["Fn::Not"][0]["Fn::Equals"][0]["Ref"] for c in both] == ["DomainName", "CertificateArn"]


# -- the data key ---------------------------------------------------------------------------------


def key_statements() -> dict[str, dict[str, Any]]:
    policy = RESOURCES["DataKey"]["Properties"]["KeyPolicy"]
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def test_the_data_key_rotates_outlives_the_stack_and_has_an_alias_and_an_output() -> None:
    key = RESOURCES["DataKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["KeySpec"] == "SYMMETRIC_DEFAULT"
    alias = RESOURCES["DataKeyAlias"]["Properties"]
    assert alias == {"AliasName": {"Fn::Sub": "alias/${AWS::StackName}-data"}, "TargetKeyId": {"Ref": "DataKey"}}
    assert TEMPLATE_JSON["Outputs"]["DataKeyArn"]["Value"] == {"Fn::GetAtt": ["DataKey", "Arn"]}


def test_only_the_stacks_roles_use_the_key_with_a_tenant_context_or_through_s3() -> None:
    statements = key_statements()
    admin = statements["AccountAdministersTheKey"]
    assert not {"kms:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])
    roles = {"ArnLike": {"aws:PrincipalArn": {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-*"}}}
    per_tenant = statements["StackFunctionsUseTheKeyPerTenant"]
    assert per_tenant["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert per_tenant["Condition"] == roles | {"Null": {"kms:EncryptionContext:tenant": "false"}}
    through_s3 = statements["StackFunctionsUseTheKeyThroughS3"]
    assert through_s3["Condition"]["ArnLike"] == roles["ArnLike"]
    assert through_s3["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}
    assert statements["SesEncryptsInboundMail"]["Action"] == "kms:GenerateDataKey"


def test_the_bucket_encrypts_with_the_data_key_by_default() -> None:
    [rule] = RESOURCES["PayloadBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                     "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]}}
    assert rule["BucketKeyEnabled"] is True


@pytest.mark.parametrize("function", ["APIHandler", "StoreChanges", "Deliveries", "StoredObjects", "WorkflowTimers",
                                      "TrainAssistants", "AnswerCustomers", "AssistantDeadLetters", *ON_FAILURE])
def test_the_functions_that_handle_personal_data_know_the_key_and_may_use_it(function: str) -> None:
    variables = RESOURCES[function]["Properties"]["Environment"]["Variables"]
    role = f"{'ApiHandler' if function == 'APIHandler' else function}Role"
    [policy] = RESOURCES[role]["Properties"]["Policies"]
    kms = [s for s in policy["PolicyDocument"]["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
    granted = {"Ref": role} in RESOURCES["TenantKeysPolicy"]["Properties"]["Roles"]
    if function in ON_FAILURE:
        assert "SWITCHBOARD_KMS_KEY_ID" not in variables
        assert kms == []
        assert not granted
        return
    assert variables["SWITCHBOARD_KMS_KEY_ID"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert granted
    assert [(s["Action"], s["Resource"], s["Condition"]) for s in kms] == [
        (["kms:GenerateDataKey", "kms:Decrypt"], {"Fn::GetAtt": ["DataKey", "Arn"]},
         {"Null": {"kms:EncryptionContext:tenant": "false"}}),
        (["kms:GenerateDataKey", "kms:Decrypt"], {"Fn::GetAtt": ["DataKey", "Arn"]},
         {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}),
    ]


def test_tenants_own_keys_are_granted_only_when_named() -> None:
    policy = RESOURCES["TenantKeysPolicy"]
    assert policy["Condition"] == "HasTenantKeys"
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Ref": "TenantKeyArns"}
    assert statement["Condition"] == {"Null": {"kms:EncryptionContext:tenant": "false"}}
    assert TEMPLATE_JSON["Parameters"]["TenantKeyArns"]["Default"] == ""


# -- the customer key table (docs/encryption.md#customer-keys-and-crypto-shredding) ---------------

KEY_FUNCTIONS = ("APIHandler", "StoreChanges", "Deliveries", "StoredObjects", "WorkflowTimers", "TrainAssistants",
                 "AnswerCustomers", "AssistantDeadLetters")


def test_the_key_table_has_no_backups_and_the_main_table_has_them() -> None:
    table, keys = RESOURCES["Table"], RESOURCES["KeyTable"]
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # a restored backup of the main table must not bring erased customers' keys back
    assert keys["Type"] == "AWS::DynamoDB::Table"
    assert keys["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert "StreamSpecification" not in keys["Properties"]
    assert "TimeToLiveSpecification" not in keys["Properties"]
    # nothing restores it either: deletion protection and Retain are what keeps it
    assert keys["Properties"]["DeletionProtectionEnabled"] is True
    assert (keys["DeletionPolicy"], keys["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert keys["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert keys["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in keys["Properties"]["KeySchema"]] == ["pk", "sk"]
    assert TEMPLATE_JSON["Outputs"]["KeyTableName"]["Value"] == {"Ref": "KeyTable"}


@pytest.mark.parametrize("function", [*KEY_FUNCTIONS, *ON_FAILURE])
def test_the_functions_with_the_data_key_may_read_and_make_customer_keys_and_only_the_api_delete_them(
    function: str
) -> None:
    variables = RESOURCES[function]["Properties"]["Environment"]["Variables"]
    role = f"{'ApiHandler' if function == 'APIHandler' else function}Role"
    [policy] = RESOURCES[role]["Properties"]["Policies"]
    statements = [s for s in policy["PolicyDocument"]["Statement"] if "KeyTable" in json.dumps(s["Resource"])]
    if function in ON_FAILURE:
        assert "SWITCHBOARD_KEY_TABLE" not in variables
        assert statements == []
        return
    assert variables["SWITCHBOARD_KEY_TABLE"] == {"Ref": "KeyTable"}
    erases = function == "APIHandler"  # DELETE /v1/customers/{id} runs there (chalicelib/tenancy/erasure.py)
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
                   *(["dynamodb:DeleteItem"] if erases else [])],
         {"Fn::GetAtt": ["KeyTable", "Arn"]})]


# -- what moto deploys -----------------------------------------------------------------------------


def test_the_emulated_stack_has_the_key_and_leaves_the_edge_out() -> None:
    stateful = stateful_template()
    types = {spec["Type"] for spec in stateful["Resources"].values()}
    assert {"AWS::KMS::Key", "AWS::KMS::Alias"} <= types
    edge = {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation", "AWS::ApiGateway::DomainName",
            "AWS::ApiGateway::BasePathMapping", "AWS::IAM::Policy"}
    assert edge <= NOT_EMULATED
    assert not edge & types
    assert "DataKeyArn" in stateful["Outputs"]
    assert "WebAclArn" not in stateful["Outputs"]
    assert not any("Condition" in spec for spec in [*stateful["Resources"].values(), *stateful["Outputs"].values()])
    # moto parses a key policy as text: the emulated one is the template's, as JSON text
    policy = stateful["Resources"]["DataKey"]["Properties"]["KeyPolicy"]
    assert json.loads(policy) == RESOURCES["DataKey"]["Properties"]["KeyPolicy"]


def test_the_deployed_key_makes_tenant_data_keys_and_encrypts_the_bucket(aws: AwsClients) -> None:
    outputs = deploy_stateful(aws.client("cloudformation"))
    settings = settings_for(outputs, Settings())
    kms, s3 = aws.client("kms"), aws.client("s3")
    assert settings.kms_key_id == outputs["DataKeyArn"]
    assert settings.key_table_name == outputs["KeyTableName"] != settings.table_name
    described = aws.dynamodb.describe_table(TableName=settings.key_table_name)["Table"]
    assert described["DeletionProtectionEnabled"] is True
    assert kms.get_key_rotation_status(KeyId=settings.kms_key_id)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases(KeyId=settings.kms_key_id)["Aliases"]}
    assert aliases == {"alias/switchboard-data": settings.kms_key_id.rsplit("/", 1)[1]}

    made = kms.generate_data_key(KeyId="alias/switchboard-data", KeySpec="AES_256",
                                 EncryptionContext={"tenant": "acme"})
    assert len(made["Plaintext"]) == 32
    assert made["KeyId"] == settings.kms_key_id
    opened = kms.decrypt(CiphertextBlob=made["CiphertextBlob"], EncryptionContext={"tenant": "acme"})
    assert opened["Plaintext"] == made["Plaintext"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=made["CiphertextBlob"], EncryptionContext={"tenant": "globex"})

    [rule] = s3.get_bucket_encryption(Bucket=settings.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": settings.kms_key_id}
    s3.put_object(Bucket=settings.bucket, Key="inbound/acme/email/m1", Body=b"From: a@example.com\r\n\r\nhi")
    head = s3.head_object(Bucket=settings.bucket, Key="inbound/acme/email/m1")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", settings.kms_key_id)


def test_settings_read_the_key_from_the_environment() -> None:
    assert Settings.from_env({"SWITCHBOARD_KMS_KEY_ID": " arn:aws:kms:eu-west-1:1:key/k \n"}).kms_key_id == (
        "arn:aws:kms:eu-west-1:1:key/k")
    assert Settings.from_env({}).kms_key_id == ""
    assert Settings.from_env({"SWITCHBOARD_KEY_TABLE": " sb-KeyTable-1 "}).key_table_name == "sb-KeyTable-1"
    assert Settings.from_env({}).key_table_name == ""
