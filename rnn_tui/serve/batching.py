"""Small requests that arrive together run through the model as one batch (what TF Serving
and Triton call dynamic batching), without waiting for a batch to fill.

The runtime's cost per call is mostly per step, not per row: 16 short reviews in one call
take about as long as three alone. While one batch computes (on the event loop: a few
milliseconds at most, as only short requests come here), the next requests queue up; the
batch after it takes all of them. A lone request waits for nothing but two turns of the loop.

>>> batcher = MicroBatcher()                                          # doctest: +SKIP
>>> results = await batcher.classify(predictor, ["a fine film"], count=1)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from rnn_tui.infer.answers import classify

MAX_BATCH_TEXTS = 64
GATHER_TURNS = 2  # turns of the event loop that let requests already read join the batch


@dataclass
class _Pending:
    texts: list[str]
    count: int
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Joins concurrent ``classify`` calls on the same predictor into one."""

    def __init__(self, batch_size: int = 128, max_texts: int = MAX_BATCH_TEXTS):
        self.batch_size = batch_size
        self.max_texts = max_texts
        self._pending: dict[int, tuple[Any, list[_Pending]]] = {}
        self.batches = 0  # (for tests: how many model calls answered the requests)

    async def classify(self, predictor: Any, texts: list[str], count: int
                       ) -> list[dict[str, Any] | str]:
        """``rnn_tui.infer.answers.classify(predictor, texts, count=count)``, shared."""
        loop = asyncio.get_running_loop()
        pending = _Pending(list(texts), count, loop.create_future())
        key = id(predictor)
        if key not in self._pending:
            self._pending[key] = (predictor, [])
            loop.create_task(self._drain(key))
        self._pending[key][1].append(pending)
        return await pending.future

    async def _drain(self, key: int) -> None:
        for _ in range(GATHER_TURNS):
            await asyncio.sleep(0)
        while True:
            predictor, queue = self._pending[key]
            taken: list[_Pending] = []
            size = 0
            while queue and (not taken or size + len(queue[0].texts) <= self.max_texts):
                taken.append(queue.pop(0))
                size += len(taken[-1].texts)
            self._run(predictor, taken)
            if not queue:
                del self._pending[key]
                return
            await asyncio.sleep(0)  # let the loop answer, read and queue in between

    def _run(self, predictor: Any, taken: list[_Pending]) -> None:
        texts = [text for pending in taken for text in pending.texts]
        self.batches += 1
        try:
            results = classify(predictor, texts, count=max(p.count for p in taken),
                               batch_size=self.batch_size)
        except Exception as error:  # each request answers it on its own (a 500)
            for pending in taken:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        start = 0
        for pending in taken:
            mine = results[start: start + len(pending.texts)]
            start += len(pending.texts)
            for result in mine:
                if isinstance(result, dict):
                    result["ranked"] = result["ranked"][: pending.count]
            if not pending.future.done():  # (a client that left cancels its future)
                pending.future.set_result(mine)
