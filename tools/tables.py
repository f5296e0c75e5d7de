"""Markdown tables for the README and the terminal."""

from __future__ import annotations


def markdown_table(header: list[str], rows: list[list[str]], text_columns=(0,)) -> str:
    """A Markdown table whose ``text_columns`` are left-aligned and the others, numbers,
    right-aligned."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells, like the header {header}")
    align = ["---" if i in text_columns else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
