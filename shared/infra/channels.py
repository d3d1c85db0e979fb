"""PostgreSQL NOTIFY channels one service raises and another listens on."""

# The projector, once a site's read models and log lines have committed; the API's streams wake.
STREAM = "automation_stream"
# The pipeline, in the transaction that records its decision on a command; the API's command
# bus wakes whoever waits for that decision.
COMMAND_OUTCOME = "command_outcome"
