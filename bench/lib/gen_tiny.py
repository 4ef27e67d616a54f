#!/usr/bin/python3
"""Tiny text files (~200 bytes each) for the RSS-flatness runs of bench/pipeline.

usage: gen_tiny.py DIR N
Writes DIR/t_000000.txt ... deterministic English-like lines, about 200 bytes
each (180..220), valid UTF-8, ending with a newline. Existing files are kept.
"""
import os
import random
import sys

WORDS = ("the of and to in is it you that was for on are with as his they be at one "
         "have this from or had by word but what some we can out other were all there "
         "when up use your how said an each she which do their time if will way about "
         "many then them write would like so these her long make thing see him two has "
         "look more day could go come did number sound no most people my over know "
         "water than call first who may down side been now find any new work part "
         "café naïve — “quoted” 日本語").split()


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    for i in range(n):
        target = rng.randint(180, 220)
        toks, size = [], 0
        while size < target:
            w = rng.choice(WORDS)
            toks.append(w)
            size += len(w.encode()) + 1
        text = " ".join(toks)
        text = text[:1].upper() + text[1:] + ".\n"
        with open(os.path.join(out, f"t_{i:06d}.txt"), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
