"""A tiny, randomly initialised causal LM for exercising the LM code paths fast.

It is a real transformers ``LlamaForCausalLM`` (2 layers, hidden size 32) with a
real byte-level BPE tokenizer trained here on a few paragraphs, a ChatML chat
template and a short context (512 positions), saved as a normal model directory
(safetensors).  Its answers are meaningless, but everything the chunkers do —
chat templating, answer-token lookup, padding, batching, windows over texts
longer than the context, hard limits — runs for real in well under a second per
call.  Weights are drawn with a fixed seed and a wide initialisation so that its
next-token distributions are far from uniform (margins differ clearly between
prompts, so decisions do not hinge on rounding).

Used by ``tests/llm`` (session fixture) and available to anyone who needs a
stand-in causal LM without a download.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a tiny test model.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# A template whose generation prompt ends in a space: with this tokenizer " 1"
# is one token, so the answer "1" merges with the prompt's last token and is not
# a clean next token — margin chunking must refuse it.
SPACED_ANSWER_TEMPLATE = CHATML_TEMPLATE.replace(
    "'<|im_start|>assistant\n'", "'<|im_start|>assistant\nAnswer: '"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS = [
    "This is a text chunking task. You are a text analysis expert. Please choose one of the "
    "following two options based on the logical structure and semantic content of the provided "
    'sentence: 1. Split "a b" into "a" and "b" two parts; 2. Keep "a b" unsplit in its original '
    "form; Please answer 1 or 2.",
    "The river rose in the night, and by morning the lower fields were under water. Farmers "
    "moved their cattle to the hills. Nobody had seen a flood like it in forty years.",
    "In 1848 the railway reached the town. Trade doubled within a decade, and the old market "
    "square was paved. The station still stands, though the trains stopped in 1962.",
    "Chapter 1. The beginning. Chapter 2. The journey. Chapter 3. The return home.",
    "Answer: 1. Answer: 2. Option 1 or option 2? Choose 1 or 2. Step 1, step 2, step 12.",
    "She opened the letter slowly. It was from her brother, who had not written for years. "
    "He asked whether she would come to the wedding in June.",
    "Photosynthesis converts light into chemical energy. Plants, algae and some bacteria use "
    "it. The oxygen we breathe is a by-product of this process.",
    "The committee met on Tuesday. Members discussed the budget, the new library and the "
    "repairs to the bridge. A vote was postponed until the next meeting.",
    "Prices fell by 2 percent in May and by 1 percent in June. Analysts expected a recovery "
    "in the autumn, but unemployment remained high.",
    "You are a helpful assistant. Please answer the question. The answer is 1. The answer "
    "is 2. Split the text into two parts, or keep it whole.",
]


def build_tiny_lm(
    path: str | os.PathLike[str], *, seed: int = 0, chat_template: str = CHATML_TEMPLATE,
    vocab_size: int = 600, hidden_size: int = 32, num_layers: int = 2,
    max_position_embeddings: int = 512, init_std: float = 0.4,
) -> Path:
    """Write a tiny causal LM + tokenizer to ``path`` (replaced atomically) and return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(_CORPUS * 3, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
        pad_token="<|im_end|>",
    )
    tokenizer.chat_template = chat_template

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=max_position_embeddings, tie_word_embeddings=True,
        initializer_range=init_std,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).eval()
    finally:
        torch.random.set_rng_state(generator_state)

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        from segtool.models.libraries import quiet_loading

        with quiet_loading():
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
