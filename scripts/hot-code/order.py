"""Turns touched pages (from the tracer) and the linker's map file into a symbol ordering
file: the functions of every touched text page, in order of first touch, one per line."""
import bisect, struct, sys

map_file, out_file, *page_files = sys.argv[1:]

# lld's map: "VMA LMA Size Align Out/In/Symbol", the last column indented 0 (output
# section), 8 (input section) or 16 (symbol) spaces.
sections = []  # [start, end, [symbols]] of .text input sections
in_text = False
with open(map_file, encoding="utf-8", errors="replace") as f:
    column = next(f).index("Out")  # where the name column starts
    for line in f:
        numbers, tail = line[:column].split(), line[column:].rstrip("\n")
        if len(numbers) != 4:
            continue
        vma, size = int(numbers[0], 16), int(numbers[2], 16)
        depth = len(tail) - len(tail.lstrip(" "))
        name = tail.strip()
        if depth == 0:
            in_text = name == ".text"
        elif not in_text:
            continue
        elif depth == 8:
            sections.append([vma, vma + size, []])
        elif sections and sections[-1][0] <= vma < max(sections[-1][1], sections[-1][0] + 1):
            sections[-1][2].append(name)

sections.sort()
starts = [s[0] for s in sections]

ordered, seen = [], set()
for pf in page_files:
    data = open(pf, "rb").read()
    for (addr,) in struct.iter_unpack("<Q", data[: len(data) // 8 * 8]):
        if addr & 1:
            continue  # region header
        page_end = addr + 4096
        i = max(bisect.bisect_right(starts, addr) - 1, 0)
        while i < len(sections) and sections[i][0] < page_end:
            s = sections[i]
            if s[1] > addr and s[2] and i not in seen:
                seen.add(i)
                ordered.append(s[2][0])
            i += 1

with open(out_file, "w") as f:
    f.write("\n".join(ordered) + "\n")
hot = sum(sections[i][1] - sections[i][0] for i in seen)
total = sum(s[1] - s[0] for s in sections)
print(f"{len(ordered)} functions, {hot / 2**20:.1f} MiB of {total / 2**20:.1f} MiB of text",
      file=sys.stderr)
