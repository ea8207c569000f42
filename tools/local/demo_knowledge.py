# ruff: noqa: RUF001, RUF002  (the FAQ's Chinese texts)
"""The demo tenant's knowledge base: a small bilingual FAQ and a few intents, so that
``make run`` answers "How do I reset my password?" / "如何重置密码？" at once.

It is imported through the knowledge API as a tenant admin would (one version, one
training job), after the built-in ``faq`` assistant is enabled: the training pump then
trains the model exactly as the trainer function does in AWS.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.api.calls import ApiCall
from chalicelib.hub import Hub

log = logging.getLogger(__name__)
ASSISTANT = "faq"


Entry = tuple[list[str], str]  # questions, answer


def _article(article_id: str, intent: str, en: Entry, zh: Entry) -> list[dict[str, Any]]:
    return [{"id": article_id, "language": "en", "questions": en[0], "answer": en[1], "intent": intent},
            {"id": article_id, "language": "zh", "questions": zh[0], "answer": zh[1], "intent": intent}]


ARTICLES = [
    *_article("reset-password", "account.password", (
        ["How do I reset my password?", "I forgot my password", "How can I change my password?",
         "I can't log in, I lost my password", "reset password", "password reset link",
         "how to reset password", "I need a new password", "my password does not work anymore",
         "can you send me a password reset email", "forgotten password", "how do I recover my password",
         "change the password of my account"],
        "Go to the sign-in page and choose “Forgot password?”. Enter your email address and we will send you a "
        "link to set a new password; the link works for 30 minutes. If the email does not arrive, check your "
        "spam folder."), (
        ["如何重置密码？", "我忘记密码了", "怎么修改密码？", "密码忘了登录不了", "重置密码", "找回密码",
         "密码不对登录不上", "怎么找回我的密码", "我需要设置新密码", "发一个重置密码的邮件给我",
         "密码忘记了怎么办", "修改账户密码"],
        "请在登录页面点击“忘记密码？”，输入您的邮箱地址，我们会发送一个设置新密码的链接，链接 30 分钟内有效。"
        "如果没有收到邮件，请检查垃圾邮件文件夹。")),
    *_article("change-email", "account.email", (
        ["How do I change my email address?", "update my email", "I want to use another email for my account",
         "change the email on my account", "my email address is wrong", "how can I update my email address",
         "switch my account to a new email", "edit my contact email", "replace the email I registered with"],
        "Open Settings → Account, choose “Email”, enter the new address and confirm it with the code we send."), (
        ["如何更改邮箱地址？", "修改账号邮箱", "我想换一个邮箱", "邮箱地址填错了", "怎么更新我的邮箱",
         "账号换绑新邮箱", "更改注册邮箱", "联系邮箱要改一下"],
        "请打开 设置 → 账户，选择“邮箱”，输入新地址，并用我们发送的验证码确认。")),
    *_article("delivery-time", "order.status", (
        ["Where is my order?", "When will my order arrive?", "How long does delivery take?", "track my package",
         "my order has not arrived yet", "where is my parcel", "delivery status of my order", "has my order shipped",
         "tracking number for my order", "how many days for shipping"],
        "Orders ship within one business day and arrive in 2–5 business days. The tracking link is in your "
        "shipping confirmation email and under Orders in your account."), (
        ["我的订单到哪里了？", "订单什么时候到？", "配送需要多久？", "查询物流", "快递还没到", "我的包裹在哪里",
         "订单发货了吗", "物流单号是多少", "几天能送到"],
        "订单会在一个工作日内发货，2–5 个工作日送达。物流链接在发货确认邮件和账户的“订单”页面中。")),
    *_article("refund", "billing.refund", (
        ["How do I get a refund?", "I want my money back", "Can I return an item?", "refund policy",
         "I want a refund", "how do I return my order", "send the product back", "refund for a damaged item",
         "when will I get my refund", "cancel my order and refund me"],
        "You can return any item within 30 days. Start the return under Orders → Return; the refund reaches "
        "your original payment method within 5–10 business days after we receive the item."), (
        ["如何申请退款？", "我要退钱", "可以退货吗？", "退款政策", "我要退款", "怎么退货", "商品坏了要退款",
         "退款什么时候到账", "取消订单并退款"],
        "收货 30 天内均可退货。请在 订单 → 退货 中发起，我们收到商品后 5–10 个工作日内原路退款。")),
    *_article("opening-hours", "support.hours", (
        ["What are your opening hours?", "When is support available?", "Are you open on weekends?",
         "what time does customer service open", "are you open on Sunday", "what are your business hours",
         "when can I call support", "is support available at night", "office hours"],
        "Our support team is available Monday to Friday, 9:00–18:00 (Beijing time). This assistant answers "
        "around the clock."), (
        ["你们的营业时间是什么？", "客服什么时候在线？", "周末有客服吗？", "客服几点上班", "周日营业吗",
         "工作时间是几点到几点", "什么时候可以打电话给客服", "晚上有客服吗"],
        "人工客服工作时间为周一至周五 9:00–18:00（北京时间），智能助手全天候为您解答。")),
]

INTENTS = [
    {"name": "billing.double_charge", "description": "Charged twice",
     "examples": ["I was charged twice", "double charge on my card", "you billed me two times for one order",
                  "扣了两次款", "同一个订单被重复扣费", "为什么收了我两次钱",
                  "I see two payments for the same purchase", "my card was charged twice for one order",
                  "duplicate payment on my statement", "the payment went through two times", "重复付款了",
                  "信用卡被扣了两笔", "一笔订单付了两次钱"]},
    {"name": "account.locked", "description": "Account locked",
     "examples": ["my account is locked", "I am blocked from signing in", "account suspended after failed logins",
                  "账号被锁定了", "登录失败太多次被锁", "账户被冻结",
                  "my account has been disabled", "it says my account is locked", "unlock my account please",
                  "I cannot access my account, it is blocked", "账号被封了", "请帮我解锁账户", "账户显示已锁定"]},
]


def seed_demo_knowledge(hub: Hub, tenant_id: str, api_key: str) -> bool:
    """Enable the ``faq`` assistant (when installed) and import the demo base; whether it was imported."""
    if ASSISTANT in hub.registry.infos:
        hub.tenants.configure(tenant_id, ASSISTANT, enabled=True, config={})
    else:
        log.warning("the %s assistant plugin is not installed: the demo knowledge base is imported untrained",
                    ASSISTANT)
    body = json.dumps({"articles": ARTICLES, "intents": INTENTS}).encode()
    report = hub.knowledge_api.import_knowledge(ApiCall(authorization=f"Bearer {api_key}", body=body))
    return report.knowledge_version > 0
