"""Table printing for the persistence benchmarks (text on stdout, optional Markdown file).

    emit(title, notes, header, rows, md=None, footer=[])
rows are lists of cells (converted with str); the first column is left-aligned, the rest
right-aligned. footer lines are printed after the table (verdicts, warnings).
"""

import statistics


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def emit(title, notes, header, rows, md=None, footer=()):
    rows = [[str(c) for c in r] for r in rows]
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells)).rstrip()

    out = ["", title] + list(notes) + ["", line(header), line(["-" * x for x in w])]
    out += [line(r) for r in rows]
    if footer:
        out += [""] + list(footer)
    print("\n".join(out), flush=True)
    if md:
        m = ["## " + title, ""] + ["- " + n.strip() for n in notes] + [""]
        m.append("| " + " | ".join(header) + " |")
        m.append("|:---|" + "---:|" * (len(header) - 1))
        m += ["| " + " | ".join(r) + " |" for r in rows]
        if footer:
            m += [""] + ["%s  " % x for x in footer]
        with open(md, "w") as fh:
            fh.write("\n".join(m) + "\n")
