"""`python -m matching solve|costs|learn`: the engine as a JSON-in / JSON-out tool.

Exit codes: 2 bad input, 3 too little history to learn from; nothing is written to the output then.
"""

from __future__ import annotations

import argparse
import json
import sys

from matching import engine, learning


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 2 with a message on stderr for bad input."""
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    parser.add_argument("command", choices=["solve", "costs", "learn"])
    parser.add_argument("--input", help="JSON problem file (default: stdin)")
    parser.add_argument("--output", help="where to write the JSON result (default: stdout)")
    parser.add_argument("--method", choices=["auto", "dense", "sparse"], default="auto")
    args = parser.parse_args(argv)
    try:
        if args.input:
            with open(args.input, encoding="utf-8") as f:
                problem = json.load(f)
        else:
            problem = json.load(sys.stdin)
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: cannot read the input: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "solve":
            result = engine.solve(problem, args.method)
        elif args.command == "learn":
            result = learning.learn(problem)
        else:
            result = engine.cost_matrix(problem, args.method)
    except learning.TooLittleHistory as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(result, ensure_ascii=False, sort_keys=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
