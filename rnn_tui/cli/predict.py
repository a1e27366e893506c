"""``rnn-tui predict``: classify texts from arguments, stdin or a file, without TensorFlow.

Texts stream through in chunks (at most 256 lines held at once, results written and flushed
as each chunk is done), so a file of any size goes through in bounded memory, and lines
typed at a terminal are answered as they come. A line may hold at most ``MAX_LINE_BYTES``
(4 MiB): a longer one (``--file /dev/zero``, a binary file) stops the reading with an
error naming its line, exit code 2, after the lines before it were answered. A bad line
(invalid UTF-8, empty, nothing the model can read) is reported on stderr with its number
and the rest go on; the exit code is then 2. Texts echoed in text or TSV output have their
control characters escaped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import click

from rnn_tui.terminal import BIDI_CONTROLS, escape, json_text
from rnn_tui.errors import NotFoundError, UserError

# The runtime's matrix products are small; OpenBLAS threads only cost here (their start-up
# alone is ~15 ms of a one-liner). Set before NumPy loads, so it applies to this process.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FORMATS = ("text", "json", "jsonl", "tsv")
CHUNK_LINES = 256
MAX_LINE_BYTES = 4 << 20  # one text per line: a longer "line" is not a text
PREVIEW_CHARS = 60
BAR_CELLS = 20


@dataclass
class Item:
    """One input text: where it came from, and the text or why it cannot be read."""

    where: str  # "line 3" or "argument 2"
    number: int
    text: str | None = None
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    values: Any = None  # a sequence model's input: (steps, channels) numbers
    header: bool = False  # a CSV header line before sequences: skipped


@click.command("predict", context_settings=CONTEXT_SETTINGS)
@click.argument("texts", nargs=-1)
@click.option("-m", "--model", "model_ref", metavar="MODEL",
              help="Model reference (NAME, NAME:VERSION, NAME@ALIAS) or a version folder. "
                   "Default: nsmc-sentiment for Korean text, imdb-sentiment otherwise.")
@click.option("-f", "--file", "file_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Read one text per line from this file ('-' for stdin).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True, help="Output format; json and jsonl carry every probability.")
@click.option("-k", "--top-k", type=click.IntRange(min=1), default=None,
              help="Show the N most probable labels.")
@click.option("--all", "all_labels", is_flag=True, help="Show every label, most probable first.")
@click.option("--trace", is_flag=True,
              help="Also show the prediction after each successive word.")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True,
              help="Texts run through the model together.")
@click.option("--label", "correct_label", metavar="LABEL", default=None,
              help="Record LABEL as the right answer for every text classified: a correction "
                   "for `rnn-tui teach` (see `rnn-tui data show corrections:MODEL`).")
def predict(texts: tuple[str, ...], model_ref: str | None, file_path: str | None,
            output_format: str, top_k: int | None, all_labels: bool, trace: bool,
            batch_size: int, correct_label: str | None) -> None:
    """Classify texts: the label and its probability.

    Give texts as arguments, or none (or '-') to read one text per line from stdin, or
    --file PATH. Korean text goes to nsmc-sentiment, other text to imdb-sentiment, unless
    -m names a model. A model on numeric sequences (-m multiplication) reads numbers
    instead: one input per argument or line, in time order, separated by commas or spaces
    (CSV rows work; a header line is skipped). A line that cannot be classified (empty,
    invalid UTF-8, no word the model reads, not the numbers a series model reads) is
    reported on stderr with its number and skipped. A line longer than 4 MiB stops the
    reading (the lines before it are answered). Exit code: 0 when every text was
    classified, 2 for usage errors or any skipped line, 1 for anything else.

    \b
      rnn-tui predict "a wonderful, moving film"
      rnn-tui predict "재미있을 줄 알았는데 완전 실망했다" --trace
      rnn-tui predict -m reuters-topics --top-k 3 "oil prices rose sharply"
      rnn-tui predict --file reviews.txt --format jsonl > scores.jsonl
      cat reviews.txt | rnn-tui predict --format tsv
      rnn-tui predict -m tutorial-series-simplernn "0.1 0.2 0.3 0.4"
      rnn-tui predict "not my cup of tea" --label negative    # a correction, for teach
    """
    if top_k is not None and all_labels:
        raise click.UsageError("give either --top-k N or --all, not both")
    if file_path is not None and texts and texts != ("-",):
        raise click.UsageError("give texts as arguments or --file, not both")
    run = PredictRun(model_ref, output_format, top_k, all_labels, trace, batch_size,
                     sys.stdout, correct_label=correct_label)
    if file_path is not None:
        if file_path == "-":
            sources = line_items(sys.stdin.buffer)
        else:
            try:
                handle = open(file_path, "rb")  # noqa: SIM115 (closed below)
            except OSError as error:
                raise UserError(f"cannot read {file_path}: {error.strerror or error}") from None
            sources = line_items(handle)
        show_text = True
    elif not texts or texts == ("-",):
        if sys.stdin.isatty():
            click.echo("rnn-tui predict: type one text per line; Ctrl-D ends", err=True)
        sources = line_items(sys.stdin.buffer)
        show_text = True
    else:
        sources = iter([argument_items(texts)])
        show_text = len(texts) > 1
    run.show_text = show_text
    try:
        run.start()
        try:
            for chunk in sources:
                run.process(chunk)
        finally:
            run.finish()  # a closed JSON array even when a too-long line stops the input
            if run.corrected:  # (after finish: stdout's answers come first)
                click.echo(f"rnn-tui: {run.corrected} correction(s) recorded as "
                           f"{escape(correct_label)}", err=True)
    except BrokenPipeError:
        reader_went_away()
    finally:
        if file_path not in (None, "-"):
            handle.close()
    if run.failed:
        sys.exit(2)


def reader_went_away() -> None:
    """``rnn-tui predict ... | head``: stop quietly with exit code 0.

    (click turns EPIPE into exit code 1 before the CLI's own handler sees it, so it is
    handled here.) Point stdout at /dev/null so the final flush at exit cannot fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
    sys.exit(0)


# ---------------------------------------------------------------------------- inputs


def argument_items(texts: tuple[str, ...]) -> list[Item]:
    items = []
    for number, text in enumerate(texts, start=1):
        item = Item(f"argument {number}", number)
        try:  # undecodable bytes in argv arrive as lone surrogates
            text.encode("utf-8")
            item.text = text
        except UnicodeEncodeError as error:
            item.error = f"not valid UTF-8 (at character {error.start + 1})"
        items.append(item)
    return items


def line_items(stream: IO[bytes], chunk_lines: int = CHUNK_LINES) -> Iterator[list[Item]]:
    """Chunks of lines from a binary stream, each line decoded on its own.

    A chunk ends at ``chunk_lines`` lines or when no more input is ready right now (so a
    person typing lines gets each answered at once, while a pipe or a file fills chunks).
    """
    batch: list[Item] = []
    number = 0
    for raw in _raw_lines(stream):
        if raw is TOO_LONG:
            if batch:
                yield batch
            raise UserError(f"line {number + 1}: longer than {MAX_LINE_BYTES >> 20} MiB, the "
                            "limit of one text per line: stopped reading (is it a text file?)")
        if raw is None:  # the reader would wait: hand over what we have
            if batch:
                yield batch
                batch = []
            continue
        number += 1
        item = Item(f"line {number}", number)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            item.text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            item.error = (f"not valid UTF-8 (byte 0x{raw[error.start]:02x} at byte "
                          f"{error.start + 1})")
        batch.append(item)
        if len(batch) >= chunk_lines:
            yield batch
            batch = []
    if batch:
        yield batch


def _selectable(stream: IO[bytes]) -> int | None:
    """The stream's file descriptor when ``select`` works on it (pipes, ttys, files)."""
    try:
        import select

        fd = stream.fileno()
        select.select([fd], [], [], 0)
        return fd
    except (AttributeError, OSError, ValueError, ImportError):
        return None  # an in-memory stream (tests), or a platform without select on it


# What _raw_lines yields, and then stops, at a line longer than MAX_LINE_BYTES.
TOO_LONG: Any = object()


def _raw_lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Lines without their newline, and None where no more input is ready yet; at most
    ``MAX_LINE_BYTES`` are held for one line (``TOO_LONG`` ends a longer one, and the input)."""
    fd = _selectable(stream)
    if fd is None:
        while line := stream.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES and not (len(line) == MAX_LINE_BYTES + 1
                                                   and line.endswith(b"\n")):
                yield TOO_LONG
                return
            yield line[:-1] if line.endswith(b"\n") else line
        return
    import select

    buffer = bytearray()
    while True:
        if not select.select([fd], [], [], 0)[0]:
            yield None
        data = os.read(fd, 1 << 16)
        if not data:
            break
        position = len(buffer)  # the kept tail holds no newline: search only new bytes
        buffer += data
        start = 0
        while True:
            end = buffer.find(b"\n", position)
            if end < 0:
                break
            if end - start > MAX_LINE_BYTES:
                yield TOO_LONG
                return
            yield bytes(buffer[start:end])
            start = position = end + 1
        del buffer[:start]
        if len(buffer) > MAX_LINE_BYTES:  # no newline in sight: never hold more
            yield TOO_LONG
            return
    if buffer:
        yield bytes(buffer)


# ---------------------------------------------------------------------------- the run


class PredictRun:
    """Predicts chunk after chunk and writes results in one of the formats."""

    def __init__(self, model_ref: str | None, output_format: str, top_k: int | None,
                 all_labels: bool, trace: bool, batch_size: int, out: IO[str], *,
                 correct_label: str | None = None):
        self.model_ref = model_ref
        self.output_format = output_format
        self.top_k = top_k
        self.all_labels = all_labels
        self.trace = trace
        self.batch_size = batch_size
        self.out = out
        self.show_text = False
        self.failed = 0
        self.written = 0
        self.correct_label = correct_label
        self.corrected = 0
        self._predictors: dict[str, Any] = {}

    # ------------------------------------------------------------------ models
    def predictor(self, reference: str) -> Any:
        cached = self._predictors.get(reference)
        if cached is not None:
            return cached
        from rnn_tui.infer import Predictor

        try:
            predictor = Predictor.load(reference)
        except NotFoundError as error:
            if self.model_ref is None:
                from rnn_tui.infer.defaults import how_to_train
                from rnn_tui.train.presets import PRESETS

                raise NotFoundError(
                    f"no model named {reference!r}, the default for this text's language: "
                    f"train it with `{how_to_train(reference, PRESETS)}`, or name a model "
                    "with -m") \
                    from None
            raise error
        if predictor.input.kind != "text" and self.trace:
            raise UserError(f"{predictor.name} reads numeric sequences: --trace follows the "
                            "words of a text")
        if self.correct_label is not None:
            from rnn_tui.teach.corrections import check_teachable

            check_teachable(predictor.name, predictor.input.kind, predictor.task,
                            predictor.labels, self.correct_label)
        self._predictors[reference] = predictor
        return predictor

    def reference_for(self, text: str) -> str:
        if self.model_ref is not None:
            return self.model_ref
        from rnn_tui.infer.defaults import default_model

        return default_model(text)

    # ------------------------------------------------------------------ processing
    def start(self) -> None:
        if self.model_ref is not None:
            self.predictor(self.model_ref)  # fail early on a bad -m
        if self.output_format == "json":
            self.out.write("[")

    def process(self, items: list[Item]) -> None:
        groups: dict[str, list[Item]] = {}
        for item in items:
            if item.error is None and item.number == 1 and item.where.startswith("line") \
                    and self._reads_numbers():
                from rnn_tui.infer.series import is_header

                item.header = is_header(item.text)
                if item.header:
                    continue
            if item.error is None and not item.text.strip():
                item.error = "empty text"  # (rnn_tui.infer.answers.EMPTY_TEXT)
            if item.error is None:
                groups.setdefault(self.reference_for(item.text), []).append(item)
        for reference, group in groups.items():
            self._predict_group(self.predictor(reference), group)
        for item in items:
            if item.header:
                continue
            if item.error is not None:
                self.failed += 1
                sys.stdout.flush()
                click.echo(f"rnn-tui: {item.where}: {escape(item.error)}", err=True)
            else:
                self.write(item)
        self.out.flush()
        if self.correct_label is not None:
            self._record_corrections(items)

    def _record_corrections(self, items: list[Item]) -> None:
        """``--label``: every text classified in this chunk becomes a correction."""
        from rnn_tui.teach.corrections import Correction, Corrections

        by_name: dict[str, list[Correction]] = {}
        for item in items:
            if item.error is None and not item.header and item.result:
                predictor = item.result["predictor"]
                by_name.setdefault(predictor.name, []).append(Correction(
                    text=item.text, label=self.correct_label, model=item.result["model"],
                    was=item.result["ranked"][0][0]))
        for name, corrections in by_name.items():
            Corrections.for_model(name).add_many(corrections)
            self.corrected += len(corrections)

    def _reads_numbers(self) -> bool:
        return self.model_ref is not None and \
            self.predictor(self.model_ref).input.kind == "sequence"

    def _predict_group(self, predictor: Any, group: list[Item]) -> None:
        from rnn_tui.infer.answers import classify

        count = len(predictor.labels) if self.all_labels else (self.top_k or 1)
        if predictor.input.kind == "sequence":
            self._predict_sequences(predictor, group, count)
            return
        results = classify(predictor, [item.text for item in group], count=count,
                           trace=self.trace, batch_size=self.batch_size)
        for item, result in zip(group, results):
            if isinstance(result, str):
                item.error = result
            else:
                item.result = result

    def _predict_sequences(self, predictor: Any, group: list[Item], count: int) -> None:
        """Numbers in, the same answers out; inputs of one length run as one batch."""
        import numpy as np

        from rnn_tui.infer.answers import model_label
        from rnn_tui.infer.series import parse_sequence

        by_length: dict[int, list[Item]] = {}
        for item in group:
            try:
                item.values = parse_sequence(item.text, timesteps=predictor.input.timesteps,
                                             channels=predictor.input.channels)
            except ValueError as error:
                item.error = str(error)
                continue
            by_length.setdefault(len(item.values), []).append(item)
        for items in by_length.values():
            probabilities = predictor.predict_sequences(
                np.stack([item.values for item in items]), batch_size=self.batch_size)
            ranked = predictor.top_k(probabilities, count)
            for item, row, best in zip(items, probabilities.tolist(), ranked):
                item.result = {"model": model_label(predictor), "predictor": predictor,
                               "ranked": best,
                               "probabilities": dict(zip(predictor.labels, row))}

    def finish(self) -> None:
        if self.output_format == "json":
            self.out.write("\n]\n" if self.written else "]\n")
        self.out.flush()

    # ------------------------------------------------------------------ writing
    def write(self, item: Item) -> None:
        result = item.result
        if self.output_format in ("json", "jsonl"):
            from rnn_tui.infer.answers import answer_record

            record = answer_record(item.text, result,
                                   line=item.number if item.where.startswith("line") else None,
                                   ranked=bool(self.top_k or self.all_labels))
            if item.values is not None:  # the numbers as read, not the line
                record.pop("text")
                values = item.values.tolist()
                record = {"input": [step[0] for step in values] if item.values.shape[1] == 1
                          else values, **record}
            text = json_text(record)  # C1 controls and bidi overrides as \uXXXX
            if self.output_format == "json":
                self.out.write(("\n  " if not self.written else ",\n  ") + text)
            else:
                self.out.write(text + "\n")
        elif self.output_format == "tsv":
            if not self.written:  # the header: as many label columns as the first row has
                names = ["line", "model"]
                for rank in range(1, len(result["ranked"]) + 1):
                    suffix = "" if rank == 1 else f"_{rank}"
                    names += [f"label{suffix}", f"probability{suffix}"]
                self.out.write("\t".join(names + ["text"]) + "\n")
            columns = [str(item.number), result["model"]]
            for name, p in result["ranked"]:
                columns += [tsv_escape(name), f"{p:.6f}"]
            columns.append(tsv_escape(item.text))
            self.out.write("\t".join(columns) + "\n")
        else:
            ranked = "  ".join(f"{escape(name)} {p:.3f}" for name, p in result["ranked"])
            line = ranked + (f"  {preview(item.text)}" if self.show_text else "")
            self.out.write(line + "\n")
            if "trace" in result:
                self.out.write(trace_text(result["predictor"], result["trace"]))
        self.written += 1


def trace_text(predictor: Any, trace: list[tuple[str, Any]]) -> str:
    """The word-by-word trace as aligned lines; binary models get a bar of P(last label)."""
    if not trace:
        return ""
    labels = predictor.labels
    tokens = [escape(token) for token, _ in trace]
    width = min(max(_cells(token) for token in tokens), 24)
    lines = []
    for index, (token, (_, values)) in enumerate(zip(tokens, trace), start=1):
        best = int(values.argmax())
        pad = " " * max(width - _cells(token), 0)
        line = f"  {index:>4}  {token}{pad}  {escape(labels[best])} {values[best]:.3f}"
        if len(labels) == 2:
            filled = int(round(float(values[1]) * BAR_CELLS))
            line += "  " + "█" * filled + "░" * (BAR_CELLS - filled)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _cells(text: str) -> int:
    """Terminal cells a text takes (wide East Asian characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """A one-line, escaped excerpt of a text."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(short)


def tsv_escape(text: str) -> str:
    """A TSV field: backslash, tab, newline, CR and other controls as backslash escapes.

    >>> tsv_escape("a\\tb\\nc\\\\d\\x1b")
    'a\\\\tb\\\\nc\\\\\\\\d\\\\x1b'
    """
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == "\t":
            out.append("\\t")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
            out.append(f"\\x{ord(char):02x}")
        elif char in BIDI_CONTROLS:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
