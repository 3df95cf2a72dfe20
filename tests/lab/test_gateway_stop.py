"""A lab gateway told to stop ends its session walker even when Python loses the cancel."""

import asyncio

from orchestrator.lab.gateway import _cancelled


def test_a_cancel_lost_to_a_read_completing_in_the_same_step_is_asked_again():
    async def scenario() -> bool:
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        async def walker() -> None:
            # As the gateway's login wait: a read under wait_for, then more waiting.
            while True:
                await asyncio.wait_for(answer, 10)
                await asyncio.sleep(3600)

        task = loop.create_task(walker())
        await asyncio.sleep(0)
        answer.set_result(b"LOGON_OK\n")  # the read completes in the step the cancel lands
        stopper = loop.create_task(_cancelled(task))
        done, _ = await asyncio.wait({stopper}, timeout=5)  # a guard against hanging only
        stopper.cancel()
        return stopper in done and task.cancelled()

    assert asyncio.run(scenario())
