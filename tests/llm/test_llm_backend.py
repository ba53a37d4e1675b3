"""The causal-LM primitives on a tiny real model: padding, batching, windows, answer ids."""

from __future__ import annotations

import numpy as np
import pytest

from segtool.models.causal_lm import TokenScores, load_causal_lm, mean_per_span
from segtool.types import UsageError

torch = pytest.importorskip("torch", reason="torch is not installed — pip install 'segtool[llm]'")

PROMPTS = [
    "The river rose in the night.",
    "Trade doubled within a decade, and the old market square was paved. It still stands.",
    "Hi",
    "Photosynthesis converts light into chemical energy. " * 4,
    "Prices fell by 2 percent in May.",
]

LONG = " ".join(
    f"Section {i}. The committee met on Tuesday and discussed the budget, the library and the "
    "repairs to the bridge." for i in range(40)
)


def _reference_probs(lm, ids: list[int], wanted: list[int]) -> np.ndarray:
    """Unpadded single-sequence forward, full-vocabulary softmax, computed independently."""
    with torch.inference_mode():
        logits = lm.model(torch.tensor([ids])).logits[0, -1].double()
    return torch.softmax(logits, dim=-1)[wanted].numpy()


def _reference_nll(lm, ids: list[int]) -> np.ndarray:
    with torch.inference_mode():
        logits = lm.model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    return -logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].numpy()


def test_next_token_probs_match_unpadded_reference_for_any_batch_size(tiny_lm) -> None:
    prompts = [tiny_lm.chat_prompt(p) for p in PROMPTS]
    wanted = tiny_lm.answer_token_ids(["1", "2"])
    results = [tiny_lm.next_token_probs(prompts, wanted, batch_size=b) for b in (1, 2, 16)]
    for res in results[1:]:
        np.testing.assert_allclose(res, results[0], rtol=1e-5, atol=1e-9)
    for ids, row in zip(prompts, results[0], strict=True):
        np.testing.assert_allclose(row, _reference_probs(tiny_lm, ids, wanted), rtol=1e-5)


def test_shared_prefix_cache_gives_the_same_probabilities(tiny_lm) -> None:
    prompts = [tiny_lm.chat_prompt(f"Please answer 1 or 2. {p}") for p in PROMPTS]
    prompts.append(tiny_lm.encode("unrelated prompt"))  # does not start with the prefix
    prefix = tiny_lm.chat_prompt("Please answer 1 or 2.")[:-9]
    assert all(p[: len(prefix)] == prefix for p in prompts[:-1])
    wanted = tiny_lm.answer_token_ids(["1", "2"])
    plain = tiny_lm.next_token_probs(prompts, wanted)
    for b in (1, 4):
        got = tiny_lm.next_token_probs(prompts, wanted, batch_size=b, shared_prefix=prefix)
        np.testing.assert_allclose(got, plain, rtol=1e-4)
    assert tiny_lm._prefix_support is True and tuple(prefix) in tiny_lm._prefix_kvs
    # the cached prefix is not modified by use
    again = tiny_lm.next_token_probs(prompts[:2], wanted, shared_prefix=prefix)
    np.testing.assert_allclose(again, got[:2], rtol=1e-4)


def test_next_token_probs_are_a_full_vocabulary_softmax(tiny_lm) -> None:
    vocab = list(range(tiny_lm.model.config.vocab_size))
    probs = tiny_lm.next_token_probs(PROMPTS[:3], vocab, batch_size=3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # string prompts are tokenised as plain text
    again = tiny_lm.next_token_probs([tiny_lm.encode(p) for p in PROMPTS[:3]], vocab[:5])
    np.testing.assert_allclose(again, probs[:, :5], rtol=1e-6)


def test_answer_ids_come_from_the_tokenizer_in_use(tiny_lm) -> None:
    tok = tiny_lm.tokenizer
    ids = tiny_lm.answer_token_ids(["1", "2"])
    assert ids == tok.convert_tokens_to_ids(["1", "2"])
    assert ids != [33, 34]  # SmolLM2's ids: the tiny vocabulary is different
    prompt = tiny_lm.chat_prompt("x")
    assert tok.decode([*prompt, ids[0]]).endswith("assistant\n1")


def test_answer_that_merges_with_the_generation_prompt_is_refused(spaced_lm_dir: str) -> None:
    lm = load_causal_lm(spaced_lm_dir, device="cpu")
    assert len(lm.encode(" 1")) == 1  # precondition: " 1" is one token in this vocabulary
    with pytest.raises(UsageError, match="not a single token after the chat template") as err:
        lm.answer_token_ids(["1", "2"])
    assert err.value.exit_code == 2


def test_model_without_chat_template_is_refused(tmp_path) -> None:
    from segtool.testing.tiny_lm import build_tiny_lm

    lm = load_causal_lm(str(build_tiny_lm(tmp_path / "m", chat_template="")), device="cpu")
    with pytest.raises(UsageError, match="no chat template"):
        lm.chat_prompt("hello")


def test_token_nll_matches_reference_and_batch_size(tiny_lm) -> None:
    texts = PROMPTS
    one = tiny_lm.token_nll(texts, batch_size=1)
    many = tiny_lm.token_nll(texts, batch_size=16)
    for a, b, text in zip(one, many, texts, strict=True):
        np.testing.assert_allclose(a.nll, b.nll, rtol=1e-5, equal_nan=True)
        ids = tiny_lm.encode(text)
        assert len(a.nll) == len(ids) and np.isnan(a.nll[0])
        np.testing.assert_allclose(a.nll[1:], _reference_nll(tiny_lm, ids), rtol=1e-4)


def test_token_offsets_locate_each_token(tiny_lm) -> None:
    text = "Prices fell by 2 percent in May.\n\nAnalysts expected a recovery — in the autumn."
    sc = tiny_lm.token_nll([text])[0]
    assert isinstance(sc, TokenScores)
    assert sc.starts[0] == 0 and sc.ends[-1] == len(text)
    assert np.all(np.diff(sc.starts) >= 0) and np.all(sc.ends >= sc.starts)
    ids = tiny_lm.encode(text)
    for tid, s, e in zip(ids, sc.starts, sc.ends, strict=True):
        if text[s:e].isascii():
            assert tiny_lm.tokenizer.decode([tid]) == text[s:e]


def test_prefix_conditions_the_first_token(tiny_lm) -> None:
    plain, with_prefix = tiny_lm.token_nll(["the river rose"] * 2, ["", "Chapter 1. "])
    assert np.isnan(plain.nll[0]) and np.isfinite(with_prefix.nll).all()
    ids = tiny_lm.encode("Chapter 1. ") + tiny_lm.encode("the river rose")
    ref = _reference_nll(tiny_lm, ids)[-len(with_prefix.nll):]
    np.testing.assert_allclose(with_prefix.nll, ref, rtol=1e-4)


def test_text_longer_than_the_model_context_is_scored_in_windows(tiny_lm) -> None:
    ids = tiny_lm.encode(LONG)
    assert len(ids) > tiny_lm.max_context  # 512 positions
    window, stride = 64, 32
    sc = tiny_lm.token_nll([LONG, PROMPTS[1]], window_tokens=window, stride_tokens=stride,
                           batch_size=3)[0]
    assert len(sc.nll) == len(ids)
    assert np.isnan(sc.nll[0]) and np.isfinite(sc.nll[1:]).all()
    # first window: full preceding context
    np.testing.assert_allclose(sc.nll[1:window], _reference_nll(tiny_lm, ids[:window]),
                               rtol=1e-4)
    # a later token is scored with exactly the carried context of its window
    k = 5 * stride + window // 2 + 3  # somewhere inside a later window
    begin = ((k - window) // stride + 1) * stride  # that window's start
    ref = _reference_nll(tiny_lm, ids[begin : k + 1])[-1]
    assert sc.nll[k] == pytest.approx(ref, rel=1e-4)
    # the default window is capped at the model context, and batch size does not matter
    a = tiny_lm.token_nll([LONG], window_tokens=10_000, batch_size=1)[0]
    b = tiny_lm.token_nll([LONG, LONG[:300]], window_tokens=10_000, batch_size=4)[0]
    np.testing.assert_allclose(a.nll, b.nll, rtol=1e-5, equal_nan=True)


def test_mean_per_span_assigns_tokens_by_their_last_character() -> None:
    sc = TokenScores(
        nll=np.array([np.nan, 1.0, 2.0, 3.0, 4.0]),
        starts=np.array([0, 3, 6, 9, 13]), ends=np.array([3, 6, 9, 13, 15]),
    )
    # spans [0,7) [7,15): token [6,9) ends inside the second span
    got = mean_per_span(sc, [(0, 7), (7, 15)])
    np.testing.assert_allclose(got, [1.0, 3.0])
    assert np.isnan(mean_per_span(sc, [(0, 3), (3, 15)])[0])  # only the unscored token


def test_load_errors_are_usage_errors(tmp_path) -> None:
    with pytest.raises(UsageError, match="--lm /path/to/dir") as err:
        load_causal_lm("no-such-org/no-such-model-xyz", device="cpu")
    assert err.value.exit_code == 2
    with pytest.raises(UsageError, match=r"no config\.json"):
        load_causal_lm(str(tmp_path), device="cpu")
    with pytest.raises(UsageError, match="no such file"):
        load_causal_lm("./missing/model-dir", device="cpu")
    (tmp_path / "x.bin").write_bytes(b"\0")
    with pytest.raises(UsageError, match=r"\.gguf"):
        load_causal_lm(str(tmp_path / "x.bin"), device="cpu")


def test_cpu_batches_group_prompts_of_similar_length() -> None:
    from segtool.models.causal_lm import _length_groups

    assert _length_groups([10, 9, 5, 100, 95, 91, 90], 2, 0.9) == [[3, 4], [5, 6], [0, 1], [2]]
    assert _length_groups([50, 50, 50], 8, 0.9) == [[0, 1, 2]]
    assert _length_groups([], 4, 0.9) == []
