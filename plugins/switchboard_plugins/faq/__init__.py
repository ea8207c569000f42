"""The ``faq`` assistant: answers standard questions from a tenant's knowledge base.

Trained per tenant from its FAQ articles' question variants and its intents' labelled
examples; classifies a customer's message into intents with a confidence and proposes
the top intent's article in the customer's language. English and Chinese. numpy is its
one compiled dependency (no scikit-learn or scipy: they do not fit in Lambda beside the
hub). See docs/assistants/faq.md.

Modules: ``config`` (tenant settings), ``text`` (normalising, language, terms),
``features`` (TF-IDF rows), ``svm`` (one-vs-rest linear SVMs by dual coordinate
descent), ``calibration`` (confidence and threshold), ``training`` (a knowledge base into
a model), ``modelfile`` (the stored bytes, no pickle), ``model`` (classify and answer),
``hooks`` (the plugin object).
"""

from .hooks import plugin

__all__ = ["plugin"]
