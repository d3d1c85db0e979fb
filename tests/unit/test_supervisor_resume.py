"""A resume that reaches a worker on its way out after a pause: the run is carried on, not
left running with no one on it. Found as a rare failure of the redelivered-pause test once
runs went through their stages in fewer hops."""

from __future__ import annotations

import asyncio

import pytest

from services.pipeline.application.stop_flag import StopFlag
from services.pipeline.application.supervisor import Supervisor

RUN = "run-1"


class Worker:
    """Each execution reads the run's status as ``statuses`` give it, in turn; it returns
    when it reads anything but running, as RunWorker does, after ``leaving`` is set."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.executions = 0
        self.read = asyncio.Event()
        self.leaving = asyncio.Event()

    async def execute(self, run_id: str, stop: StopFlag) -> None:
        self.executions += 1
        status = self.statuses.pop(0)
        self.read.set()
        if status == "running":
            return  # carried the run to its end
        await self.leaving.wait()  # releasing its slots, say: still carried meanwhile


async def _failed(run_id: str, error: Exception) -> None:
    raise AssertionError(f"no worker may fail here: {error!r}")


async def _until_idle(supervisor: Supervisor) -> None:
    async with asyncio.timeout(2):
        while supervisor.carrying():
            await asyncio.sleep(0)


async def _paused_then_resumed_on_the_way_out(worker: Worker) -> Supervisor:
    supervisor = Supervisor(worker.execute, _failed)
    supervisor.launch(RUN)
    supervisor.request_stop(RUN, "pause")
    await worker.read.wait()  # it has read the run paused and is leaving
    supervisor.launch(RUN)  # the resume, recorded meanwhile
    return supervisor


async def test_a_worker_that_read_the_run_paused_looks_again_after_a_resume() -> None:
    worker = Worker(["paused", "running"])
    supervisor = await _paused_then_resumed_on_the_way_out(worker)
    worker.leaving.set()
    await _until_idle(supervisor)
    assert worker.executions == 2


async def _pause_again(supervisor: Supervisor, worker: Worker) -> None:
    supervisor.request_stop(RUN, "pause")  # before the worker left
    worker.leaving.set()


async def _cancel(supervisor: Supervisor, worker: Worker) -> None:
    await supervisor.abort(RUN, "cancel")


@pytest.mark.parametrize("stop", [_pause_again, _cancel])
async def test_a_pause_or_cancel_after_the_resume_is_not_carried_over(stop) -> None:
    worker = Worker(["paused", "running"])
    supervisor = await _paused_then_resumed_on_the_way_out(worker)
    await stop(supervisor, worker)
    await _until_idle(supervisor)
    assert worker.executions == 1


async def test_a_worker_not_resumed_meanwhile_runs_once() -> None:
    worker = Worker(["paused"])
    supervisor = Supervisor(worker.execute, _failed)
    supervisor.launch(RUN)
    supervisor.request_stop(RUN, "pause")
    worker.leaving.set()
    await _until_idle(supervisor)
    assert worker.executions == 1
