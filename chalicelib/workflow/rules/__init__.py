"""Per-tenant triage and automation rules (issue 12, section 2): the models a rule is
made of (:mod:`.models`), how a condition is checked (:mod:`.conditions`), one run of
a trigger's rules over a ticket (:mod:`.evaluate`, pure) and where rules are kept,
versioned and audited (:mod:`.store`)."""
