"""The `ct2` backend: CTranslate2, int8 on a CPU (faster than transformers fp32: docs/measurements.md, Speed),
int8_float16 on CUDA.

Causal models run through `ctranslate2.Generator`, seq2seq (AraT5v2, mT5, AraBART) through `ctranslate2.Translator`.
A model (with its adapter merged in memory, so no second fp32 copy is written) is converted once per model +
adapter + quantization and cached with a lock and an atomic rename (summarizer.cache).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..cache import build_once, cache_dir, lease
from ..errors import ModelLoadError
from ..generation import GenerationSettings, TaskFormat, common_token_ids, source_token_ids
from . import Candidate, piece_ids

CONVERTED_INFO = "summarizer_ct2.json"


def default_compute_type(device: str) -> str:
    return "int8_float16" if device == "cuda" else "int8"


def _fingerprint(path: str | os.PathLike | None) -> str:
    """Identity of a model or adapter directory: its path, and the size and mtime of each file in it."""
    if path is None:
        return "none"
    path = Path(path)
    if not path.exists():
        return str(path)  # a hub id
    parts = [str(path.resolve())]
    # Documentation (a model card) does not change the converted model: editing it must not reconvert.
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() != ".md"):
        stat = file.stat()
        parts.append(f"{file.relative_to(path)}:{stat.st_size}:{int(stat.st_mtime)}")
    return "\n".join(parts)


def converted_dir(model: str, adapter: str | None, quantization: str, trim: bool = False) -> Path:
    import ctranslate2

    key = hashlib.sha256("\n--\n".join([_fingerprint(model), _fingerprint(adapter), quantization,
                                         ctranslate2.__version__, f"trim={trim}"]).encode()).hexdigest()[:16]
    name = f"{Path(str(model)).name}+{Path(str(adapter)).name if adapter else 'base'}-{quantization}" \
           f"{'-trim' if trim else ''}-{key}"
    return cache_dir() / "ct2" / name


class _ReorderedVocab:
    """The tokenizer as CTranslate2's converter sees it: the same tokens, numbered in the model's new row order."""

    def __init__(self, tokenizer, tokens: list[str]):
        self._tokenizer = tokenizer
        self._vocab = {token: i for i, token in enumerate(tokens)}

    def get_vocab(self) -> dict[str, int]:
        return self._vocab

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


def trim_output_layer(model, tokenizer, keep: set[int]):
    """Reorder the vocabulary so the kept tokens come first and give the model an output layer of those rows only.

    Input embeddings keep every row (a lookup costs nothing per token), so any prompt is read exactly as before;
    only the output projection, which every generated token multiplies through (gemma-3-270m: 262k x 640, most of
    a decoding step), shrinks. CTranslate2 sizes the vocabulary by the embeddings and the logits by the projection,
    so generated ids index the kept tokens. Returns (model, the tokenizer as the converter must see it)."""
    import torch

    embeddings = model.get_input_embeddings()
    rows = embeddings.weight.shape[0]
    keep = sorted(i for i in keep if 0 <= i < rows)
    kept = set(keep)
    order = torch.tensor(keep + [i for i in range(rows) if i not in kept])
    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    tokens = [by_id.get(i, f"<extra_id_{i}>") for i in range(rows)]  # as the converter pads a short vocabulary
    with torch.no_grad():
        weight = embeddings.weight[order].clone()
        embeddings.weight = torch.nn.Parameter(weight, requires_grad=False)
        head = torch.nn.Linear(weight.shape[1], len(keep), bias=False)
        head.weight = torch.nn.Parameter(weight[: len(keep)].clone(), requires_grad=False)
    model.set_output_embeddings(head)
    return model, _ReorderedVocab(tokenizer, [tokens[i] for i in order.tolist()])


def serving_vocab(directory: str, tokenizer, task_format: TaskFormat) -> set[int] | None:
    """The ids to keep in the output layer: the output vocabulary saved in `directory` (adapter or model) plus every special token, stop
    token and prompt-template token (decoding starts from the template's last token); None without one."""
    from ..generation import TASKS
    from ..vocab import load_output_vocab

    saved = load_output_vocab(directory)
    if saved is None:
        return None
    ids = set(saved[0]) | set(tokenizer.all_special_ids)
    for task in TASKS:
        ids |= set(task_format.stop_token_ids(tokenizer, task))
        ids |= set(tokenizer(task_format.render(task, ""), add_special_tokens=True).input_ids)
    return ids


def convert(model: str, adapter: str | None, quantization: str, out_dir: Path, trim: bool = False) -> None:
    """Load (and merge the adapter) with the hf backend's loader, hand the in-memory model to CTranslate2's
    converter, and save the tokenizer and task format beside it. `trim`: serve the adapter's output vocabulary."""
    import ctranslate2.converters as converters

    from .hf import load_model

    loaded = load_model(model, adapter=adapter, device="cpu")
    hf_model, converter_tokenizer, kept = loaded.model, loaded.tokenizer, None
    if trim and not loaded.is_seq2seq:
        keep = serving_vocab(adapter if adapter is not None else model, loaded.tokenizer, loaded.task_format)
        if keep is not None:
            hf_model, converter_tokenizer = trim_output_layer(hf_model, loaded.tokenizer, keep)
            kept = hf_model.get_output_embeddings().weight.shape[0]

    class InMemoryConverter(converters.TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            return hf_model

        def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
            return converter_tokenizer

    try:
        InMemoryConverter(str(model)).convert(str(out_dir), quantization=quantization, force=True)
    except (ValueError, NotImplementedError) as exc:
        raise ModelLoadError(f"CTranslate2 cannot convert {model!r}: {exc}") from exc
    loaded.tokenizer.save_pretrained(out_dir)
    loaded.task_format.save(out_dir)
    (out_dir / CONVERTED_INFO).write_text(json.dumps({"model": str(model), "adapter": str(adapter),
                                                      "quantization": quantization, "output_tokens": kept,
                                                      "seq2seq": loaded.is_seq2seq}) + "\n")


class FastTokenizer:
    """The converted model's tokenizer through the `tokenizers` library alone.

    Importing transformers imports torch: 3-6 s of a 2-core machine's start-up, for a backend that runs neither.
    This reads the same tokenizer.json and offers what serving calls (encode, ids <-> tokens, decode, eos/unk ids);
    tests check it encodes and decodes as transformers' tokenizer does."""

    def __init__(self, directory: Path):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        config = json.loads((directory / "tokenizer_config.json").read_text(encoding="utf-8"))

        def special(name: str) -> int | None:
            token = config.get(name)
            token = token.get("content") if isinstance(token, dict) else token
            return self._tokenizer.token_to_id(token) if isinstance(token, str) else None

        self.eos_token_id, self.unk_token_id = special("eos_token"), special("unk_token")
        self.bos_token_id = special("bos_token")

    @classmethod
    def usable(cls, directory: Path) -> bool:
        return (directory / "tokenizer.json").is_file() and (directory / "tokenizer_config.json").is_file()

    def __call__(self, text: str, *, add_special_tokens: bool = True):
        from types import SimpleNamespace

        return SimpleNamespace(input_ids=self._tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, int):
            return self._tokenizer.id_to_token(ids)
        return [self._tokenizer.id_to_token(i) for i in ids]

    def convert_tokens_to_ids(self, tokens):
        def one(token):
            tid = self._tokenizer.token_to_id(token)
            return self.unk_token_id if tid is None else tid

        return one(tokens) if isinstance(tokens, str) else [one(t) for t in tokens]

    def decode(self, ids, *, skip_special_tokens: bool = False) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)


def load_tokenizer(directory: Path):
    """FastTokenizer when the directory has a tokenizer.json (every model converted here), else transformers'."""
    if FastTokenizer.usable(directory):
        return FastTokenizer(directory)
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    # The saved Gemma tokenizer draws a spurious "incorrect regex pattern" warning; it tokenizes exactly as the
    # original (checked on Arabic, Latin and digits), so the warning is silenced for this load only.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return AutoTokenizer.from_pretrained(str(directory))
    finally:
        hf_logging.set_verbosity(verbosity)


class CT2Backend:
    name = "ct2"
    caches_conversions = True
    """Its conversions live under cache_dir()/ct2 (`summarizer cache` lists and prunes them)."""
    variants = {"full": {"trim_vocab": False}}
    """`summarizer bench` compares ct2-full, the whole output layer, with the trimmed one (what trimming buys)."""

    def __init__(self, directory: Path, *, device: str, compute_type: str, threads: int | None, label: str):
        import ctranslate2

        info = json.loads((directory / CONVERTED_INFO).read_text())
        self.is_seq2seq = bool(info["seq2seq"])
        self.task_format = TaskFormat.load(directory) or TaskFormat(kind="seq2seq" if self.is_seq2seq else "causal")
        self.tokenizer = load_tokenizer(directory)
        runner = ctranslate2.Translator if self.is_seq2seq else ctranslate2.Generator
        # On a CPU, one thread per prompt and as many prompts at once as there are threads: a 270M model's matrices
        # are too small for two threads to share one well, so the headline and the summary decode side by side on
        # two cores sooner than one after the other (docs/measurements.md, Speed). On a GPU, one worker.
        workers = 1 if device == "cuda" else max(1, threads or os.cpu_count() or 1)
        self.concurrent = workers > 1
        """The engine may run its tasks' calls side by side (each blocks in CTranslate2, not in Python)."""
        self.model = runner(str(directory), device=device, compute_type=compute_type,
                            intra_threads=1 if workers > 1 else (threads or 0), inter_threads=workers)
        with open(directory / "config.json", encoding="utf-8") as handle:
            self._config = json.load(handle)
        self.output_tokens = info.get("output_tokens")
        """Rows of the output layer when trimmed to the adapter's vocabulary, else None."""
        self.label = label + (f" (output vocabulary {self.output_tokens:,})" if self.output_tokens else "")
        self.directory = directory
        self._writable: list[str] | None = None
        self._columns: dict[str, int] | None = None

    @classmethod
    def load(cls, model: str, *, adapter=None, device: str = "auto", threads: int | None = None,
             compute_type: str | None = None, trim_vocab: bool = True) -> "CT2Backend":
        """`trim_vocab`: when the adapter saved the output vocabulary it was trained over (summarizer.vocab), serve
        an output layer of those tokens only."""
        import ctranslate2

        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute_type = compute_type or default_compute_type(device)
        adapter = str(adapter) if adapter is not None else None
        # Weights are stored int8 either way; the compute type at load decides how they run.
        quantization = "int8" if compute_type.startswith("int8") else compute_type
        from ..vocab import load_output_vocab

        # A full fine-tune saves its output vocabulary in the model directory, an adapter run in the adapter's.
        vocab_source = adapter if adapter is not None else str(model)
        trim = bool(trim_vocab) and load_output_vocab(vocab_source) is not None
        directory = converted_dir(str(model), adapter, quantization, trim)
        held = lease(directory)  # before the entry is looked for: `summarizer cache --prune-days` then skips it
        build_once(directory, lambda tmp: convert(str(model), adapter, quantization, tmp, trim),
                   what=f"a CTranslate2 {quantization} copy of {Path(str(model)).name}", marker=CONVERTED_INFO)
        label = str(model) if adapter is None else f"{model}+{Path(adapter).name}"
        try:
            backend = cls(directory, device=device, compute_type=compute_type, threads=threads, label=label)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelLoadError(f"cannot load the CTranslate2 model in {directory}: {exc}") from exc
        backend._lease = held  # released when the backend is collected (or the process ends)
        return backend

    def count_tokens(self, text: str, *, special: bool = False) -> int:
        return len(self.tokenizer(text, add_special_tokens=special).input_ids)

    def _outside(self, source: str, stop_ids) -> list[list[str]]:
        """Strict decoding on CTranslate2, which takes no logits processor: every token the model can write (the
        rows of its output layer) that is neither the article's nor a function word nor a stop token, each as a
        one-token sequence to suppress. The allowed set is the hf backend's (one definition, generation.py)."""
        allowed = set(self.tokenizer.convert_ids_to_tokens(
            sorted(source_token_ids(self.tokenizer, source) | common_token_ids(self.tokenizer, stop_ids))))
        return [[token] for token in self._writable_tokens() if token not in allowed]

    def _writable_tokens(self) -> list[str]:
        if self._writable is None:
            # A Generator's vocabulary.json; a Translator's target (or shared) vocabulary, JSON or one per line.
            for name in ("vocabulary", "target_vocabulary", "shared_vocabulary"):
                json_file, text_file = self.directory / f"{name}.json", self.directory / f"{name}.txt"
                if json_file.is_file():
                    vocabulary = json.loads(json_file.read_text(encoding="utf-8"))
                    break
                if text_file.is_file():
                    vocabulary = text_file.read_text(encoding="utf-8").split("\n")[:-1]
                    break
            else:
                raise ModelLoadError(f"no vocabulary file in {self.directory}: strict decoding cannot list tokens")
            self._writable = vocabulary[: self.output_tokens] if self.output_tokens else vocabulary
        return self._writable

    def output_columns(self, token_ids: list[int], *, missing_ok: bool = False) -> list[int]:
        """Where these tokens' scores are in the model's output (a trimmed model numbers its rows its own way);
        ModelLoadError naming one it cannot write, or (`missing_ok`) those left out."""
        if self._columns is None:  # built once: end_scores asks for every article
            self._columns = {token: i for i, token in enumerate(self._writable_tokens())}
        index = self._columns
        tokens = self.tokenizer.convert_ids_to_tokens(list(token_ids))
        missing = [t for t in tokens if t not in index]
        if missing and not missing_ok:
            raise ModelLoadError(f"the model in {self.directory} cannot write the token(s) {missing}")
        return [index[t] for t in tokens if t in index]

    MAX_SCORED_FLOATS = 16_000_000
    """end_scores forwards rows together while their output (rows × positions × vocabulary) stays under this many
    floats (64 MB): a trimmed vocabulary takes several sentences at once, the full one a few."""

    def end_scores(self, prompts: list[str], answers: list[list[str]], *, task: str) -> list[list[float]]:
        """See summarizer.cut.EndScoring: one forward pass per prompt (batched), the answer's words fed as the
        model's own answer."""
        import numpy as np

        tokenizer = self.tokenizer
        stops = self.task_format.stop_token_ids(tokenizer, task)
        if self.is_seq2seq:
            return self._seq2seq_end_scores(prompts, answers, stops)
        columns = self.output_columns(stops, missing_ok=True)  # a stop it cannot write has no probability
        rows, ends = [], []
        for prompt, pieces in zip(prompts, answers):
            prompt_ids = tokenizer(prompt, add_special_tokens=True).input_ids
            answer, marks = piece_ids(tokenizer, pieces)
            rows.append(tokenizer.convert_ids_to_tokens(prompt_ids + answer))
            ends.append([len(prompt_ids) + mark for mark in marks])
        pad = tokenizer.convert_ids_to_tokens(tokenizer.eos_token_id)
        vocabulary = len(self._writable_tokens())
        out: list[list[float]] = [[] for _ in rows]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        start = 0
        while start < len(order):
            stop = start + 1
            while stop < len(order) and (stop + 1 - start) * len(rows[order[stop]]) * vocabulary \
                    <= self.MAX_SCORED_FLOATS:
                stop += 1
            group = order[start:stop]
            width = len(rows[group[-1]])
            # Right-padded to one length (forward_batch wants equal lengths here); under causal attention the
            # padding after a row cannot change the positions before it.
            batch = [rows[i] + [pad] * (width - len(rows[i])) for i in group]
            logp = np.asarray(self.model.forward_batch(batch, return_log_probs=True))
            for r, i in enumerate(group):
                picked = logp[r][ends[i]][:, columns]
                out[i] = np.logaddexp.reduce(picked, axis=1).tolist()
            start = stop
        return out

    def _seq2seq_end_scores(self, prompts, answers, stops) -> list[list[float]]:
        """A Translator scores whole targets: each prefix of the answer as a target, the log-probability of the
        end token CTranslate2 appends to it."""
        tokenizer = self.tokenizer
        out = []
        for prompt, pieces in zip(prompts, answers):
            source = tokenizer.convert_ids_to_tokens(tokenizer(prompt, add_special_tokens=True).input_ids)
            targets = [tokenizer.convert_ids_to_tokens(tokenizer("".join(pieces[: k + 1]).strip(),
                                                                 add_special_tokens=False).input_ids)
                       for k in range(len(pieces))]
            results = self.model.score_batch([source] * len(targets), targets) if targets else []
            out.append([float(r.log_probs[-1]) for r in results])
        return out

    def position_limit(self, max_new_tokens: int) -> int:
        config = self._config
        limit = config.get("max_position_embeddings") or config.get("max_length")
        if not limit:
            return 1 << 30
        return int(limit) - (0 if self.is_seq2seq else max_new_tokens) - 2

    def generate(self, prompts: list[str], *, task: str, max_new_tokens: int, settings: GenerationSettings,
                 sources: list[str]) -> list[list[Candidate]]:
        if settings.source_boost:
            from ..errors import ConfigError

            raise ConfigError("source_boost needs the hf backend (--backend hf): CTranslate2 takes no logit bias "
                              "(strict_source works on both)")
        tokenizer = self.tokenizer
        stop_ids = self.task_format.stop_token_ids(tokenizer, task)
        # Tokens cross into CTranslate2 as strings (a trimmed model numbers them in its own order).
        batch = [tokenizer.convert_ids_to_tokens(tokenizer(p, add_special_tokens=True).input_ids) for p in prompts]
        keep = min(settings.num_candidates, settings.num_beams)
        options = dict(beam_size=settings.num_beams, num_hypotheses=keep, length_penalty=settings.length_penalty,
                       repetition_penalty=settings.repetition_penalty,
                       no_repeat_ngram_size=settings.no_repeat_ngram_size,
                       end_token=tokenizer.convert_ids_to_tokens(stop_ids),
                       return_end_token=True, return_scores=True, max_batch_size=settings.batch_size)
        if self.is_seq2seq:
            if settings.strict_source:  # one call per article: the suppressed tokens apply to a whole call
                results = [self.model.translate_batch([tokens], max_decoding_length=max_new_tokens,
                                                      suppress_sequences=self._outside(source, stop_ids),
                                                      **options)[0] for tokens, source in zip(batch, sources)]
            else:
                results = self.model.translate_batch(batch, max_decoding_length=max_new_tokens, **options)
            hypotheses = [[(tokenizer.convert_tokens_to_ids(tokens), score) for tokens, score in
                           zip(r.hypotheses, r.scores)] for r in results]
        else:
            # One prompt per call: a Generator forwards a batch's prompts at once only up to the shortest one and
            # decodes the rest token by token, which made batches slower than single prompts (docs/measurements.md,
            # Speed). Prompts of exactly equal length still share a call. The calls are
            # submitted at once: each worker (one per core) takes the next.
            groups: dict[tuple, list[int]] = {}
            for i, tokens in enumerate(batch):  # strict decoding: one prompt per call (its own allowed tokens)
                groups.setdefault(("article", i) if settings.strict_source else ("length", len(tokens)), []).append(i)
            pending = []
            for indices in groups.values():
                if settings.strict_source:
                    options["suppress_sequences"] = self._outside(sources[indices[0]], stop_ids)
                results = self.model.generate_batch([batch[i] for i in indices], max_length=max_new_tokens,
                                                    include_prompt_in_result=False, asynchronous=True, **options)
                pending += zip(indices, results)
            hypotheses = [None] * len(batch)
            for i, result in pending:
                r = result.result()
                hypotheses[i] = [(tokenizer.convert_tokens_to_ids(tokens), score)
                                 for tokens, score in zip(r.sequences, r.scores)]
        out = []
        for rows in hypotheses:
            out.append([Candidate(text=tokenizer.decode(ids, skip_special_tokens=True),
                                  finished=bool(ids) and ids[-1] in stop_ids, score=float(score))
                        for ids, score in rows])
        return out
