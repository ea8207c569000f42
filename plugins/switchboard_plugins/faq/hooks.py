"""The ``faq`` assistant's hooks: thin, each hands over to ``training`` or ``model``.

Those (and numpy with them) are imported on first use, like every built-in's internals:
the hub's other functions register this plugin without loading any of it, and the
webhook function never calls these hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel
from switchboard_sdk.assistant import AssistantQuery, Classification, KnowledgeBase, ProposedAnswer, TrainedModel
from switchboard_sdk.errors import PluginConfigError
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl

from .config import NAME, FaqConfig

if TYPE_CHECKING:
    from .model import FaqModel


def _model(handle: object) -> FaqModel:
    from .model import FaqModel

    if not isinstance(handle, FaqModel):  # the hub passes what load returned: anything else is a wiring bug
        raise PluginConfigError(f"expected a faq model, got {type(handle).__name__}")
    return handle


class FaqAssistant:
    """The plugin object registered under the ``faq`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="assistant",
            contract_version=CONTRACT_VERSION,
            config_model=FaqConfig,
            version="0.1.0",
            summary="Answers standard questions from the knowledge base (English and Chinese): "
                    "TF-IDF features and linear SVMs, with a threshold chosen for a precision",
        )

    @hookimpl
    def switchboard_assistant_train(self, knowledge: KnowledgeBase, config: BaseModel) -> TrainedModel:
        from .training import train

        return train(knowledge, expect_config(config, FaqConfig).precision)

    @hookimpl
    def switchboard_assistant_load(self, data: bytes, config: BaseModel) -> object:
        from .model import FaqModel

        expect_config(config, FaqConfig)
        return FaqModel.from_bytes(data)

    @hookimpl
    def switchboard_assistant_classify(self, model: object, query: AssistantQuery,
                                       config: BaseModel) -> Classification:
        return _model(model).classify(query.text)

    @hookimpl
    def switchboard_assistant_answer(self, model: object, query: AssistantQuery, classification: Classification,
                                     config: BaseModel) -> ProposedAnswer | None:
        return _model(model).answer(query, classification)


plugin = FaqAssistant()
