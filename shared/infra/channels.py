"""PostgreSQL NOTIFY channels one service raises and another listens on."""

# The projector, once a site's read models and log lines have committed; the API's streams wake.
STREAM = "automation_stream"
