"""Prompt verification (stage 3 of Land & Bartolo): does the model repeat a candidate token when asked to?

Each template is text with ``{token}`` placeholders; the candidate's id is put in their place directly (the text
around it is encoded by the model's tokenizer, segment by segment), so the tokenizer cannot split the token. The
model reads the whole prompt once (teacher-forced) and the probability it gives the candidate is read at every
placeholder after the first (where the token has already been shown and should be repeated); the largest
over all templates and positions is the token's ``max_prob``. Below the threshold (default 0.01): under-trained.

Prompts for one template have the same length for every candidate, so candidates go through the model in batches
with no padding. Loading uses ``transformers`` with remote code off (its default; see :func:`load_causal_lm`).

Example:
    >>> t = TEMPLATES[1]
    >>> t.name, t.render("X").count("X")
    ('repeat', 17)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from analysis.i18n import N_

from .categories import GlitchError

#: Stored with every verdict; bumped whenever the templates or the reading of probabilities change.
PROMPT_TEMPLATE_VERSION = "1"
DEFAULT_THRESHOLD = 0.01
PLACEHOLDER = "{token}"


@dataclass(frozen=True)
class PromptTemplate:
    """``preamble`` + ``body`` x ``repeats`` + ``final``; ``{token}`` marks where the candidate goes."""

    name: str
    preamble: str
    body: str
    repeats: int
    final: str

    def render(self, token: str) -> str:
        return (self.preamble + self.body * self.repeats + self.final).replace(PLACEHOLDER, token)

    def segments(self) -> list[str]:
        """The text between placeholders; the candidate goes between consecutive segments."""
        return (self.preamble + self.body * self.repeats + self.final).split(PLACEHOLDER)


#: After cohere-ai/magikarp's verification prompts (input/output repetition and plain repetition), shortened so
#: they fit small context windows.
TEMPLATES: tuple[PromptTemplate, ...] = (
    PromptTemplate("input-output", "This device repeats its input exactly, as shown in these identical trials.",
                   "\nInput: «{token}»\nOutput: «{token}»", 8, "\nInput: «{token}»\nOutput: «{token}"),
    PromptTemplate("repeat", "Below is the output, as you can see it's just giving the same phrase repeated "
                   "indefinitely:\n", "{token}", 16, "{token}"),
)


@dataclass(frozen=True)
class Verdict:
    token_id: int
    max_prob: float
    best_prompt: str
    under_trained: bool


def prompt_ids(template: PromptTemplate, encode: Callable[[str], list[int]], bos: Sequence[int] = ()
               ) -> tuple[list[int], list[int]]:
    """Ids of the template with ``-1`` at each placeholder, and the placeholder positions (first one excluded)."""
    ids = list(bos)
    places = []
    segments = template.segments()
    for k, segment in enumerate(segments):
        if segment:
            ids += encode(segment)
        if k < len(segments) - 1:
            places.append(len(ids))
            ids.append(-1)
    return ids, places[1:]


def load_causal_lm(path_or_id: str, *, device: torch.device, revision: str | None = None):
    """A causal LM through transformers, in eval mode on ``device``; repository code is never run.

    The remote-code switch is left at transformers' default, which is off (the project passes it nowhere, and
    tests/test_loading.py checks that): a config whose architecture needs code from the repository is refused, one
    that transformers knows natively is loaded with transformers' own class (tests/test_glitch_tiny_model.py).
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(path_or_id, revision=revision)
        dtype = torch.float32 if device.type == "cpu" else getattr(config, "torch_dtype", None) or torch.float32
        model = AutoModelForCausalLM.from_pretrained(path_or_id, revision=revision, dtype=dtype)
    except ValueError as e:  # an architecture without a causal-LM head (e.g. BERT), or unknown to transformers
        raise GlitchError(f"{path_or_id} cannot be loaded as a causal language model ({e}). Prompt verification "
                          "needs one; weight indicators work for any model.", title=N_("Not a causal language model")) from e
    except OSError as e:
        raise GlitchError(f"Cannot load the model {path_or_id}: {e}", title=N_("Model not loadable")) from e
    return model.to(device).eval()


@torch.inference_mode()
def candidate_probs(model, ids: list[int], places: list[int], candidates: Sequence[int], *, batch_size: int,
                    device: torch.device) -> np.ndarray:
    """For each candidate: the largest probability the model gives it at the placeholder positions of ``ids``."""
    template = torch.tensor(ids, dtype=torch.long)
    holes = template == -1
    pos = torch.tensor(places, dtype=torch.long, device=device)
    out = np.empty(len(candidates), dtype=np.float64)
    for a in range(0, len(candidates), batch_size):
        cand = torch.tensor(candidates[a:a + batch_size], dtype=torch.long)
        batch = template.repeat(len(cand), 1)
        batch[:, holes] = cand[:, None]
        batch = batch.to(device)
        logits = model(input_ids=batch).logits  # [B, L, V]
        picked = logits[:, pos - 1, :].float()  # the predictions of the token at each place
        logp = torch.log_softmax(picked, dim=-1)
        p = logp.gather(2, cand.to(device)[:, None, None].expand(-1, len(places), 1)).squeeze(2).exp()
        out[a:a + len(cand)] = p.max(dim=1).values.double().cpu().numpy()
    return out


def verify_candidates(model, encode: Callable[[str], list[int]], candidates: Sequence[int], *, bos: Sequence[int] = (),
                      device: torch.device, batch_size: int = 16, threshold: float = DEFAULT_THRESHOLD,
                      templates: Sequence[PromptTemplate] = TEMPLATES) -> list[Verdict]:
    """Verdicts for ``candidates`` (token ids): max probability over ``templates`` and positions, and the call."""
    if not candidates:
        return []
    best = np.full(len(candidates), -1.0)
    where = [""] * len(candidates)
    for template in templates:
        ids, places = prompt_ids(template, encode, bos)
        probs = candidate_probs(model, ids, places, candidates, batch_size=batch_size, device=device)
        for k in np.flatnonzero(probs > best).tolist():
            best[k], where[k] = probs[k], template.name
    return [Verdict(int(c), float(p), w, bool(p < threshold)) for c, p, w in zip(candidates, best.tolist(), where)]
