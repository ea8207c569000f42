"""The ``faq`` assistant's tenant configuration."""

from __future__ import annotations

from switchboard_sdk.assistant import AssistantConfig

NAME = "faq"  # the plugin's name; here so the hooks need not import the model


class FaqConfig(AssistantConfig):
    """The settings every assistant has (the threshold, the precision it is chosen for,
    channels, hand-off phrases, unhelpful answers in a row); the model itself has no knob a
    tenant should turn: its settings were chosen once, on BANKING77's training data
    (docs/assistants/faq.md)."""
