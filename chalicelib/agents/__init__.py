"""Agents: the hub's human users. Cognito user pools sign them in (``pool``), the
hub verifies their tokens itself on every call (``tokens``), and the table keeps
their records and groups per tenant (``directory``)."""
