"""The local runtime: moto's server as the embedded AWS, the Chalice app on
loopback, and pumps that play Lambda's event-source mappings."""
