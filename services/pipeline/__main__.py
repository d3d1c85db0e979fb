"""``python -m services.pipeline``: the pipeline service process."""

import uvloop

from services.pipeline.entrypoints.consumer import create_app
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import get_settings
from shared.observability.process import instrument_process
from shared.observability.serve import serve_metrics


def main() -> None:
    settings = get_settings()
    instrument_process(settings, "pipeline")
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    serve_metrics(settings, "pipeline")
    # uvloop, as uvicorn gives the API: at 0 ms AI the loop runs a few tasks and wake-ups per
    # item, and asyncio's own Python was about a tenth of the process's CPU.
    uvloop.run(create_app(settings).run())


if __name__ == "__main__":
    main()
