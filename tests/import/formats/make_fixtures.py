#!/usr/bin/python3
"""Makes the importer's format fixtures from our own test documents.

usage: make_fixtures.py [OUTDIR]   (by hand, with Debian's /usr/bin/python3 and
python3-docx; the outputs are committed)

For each text document (../cases/simplified-labels/input.txt and
table-plan.txt here):
  NAME.docx  python3-docx: top-level headings as a Word numbered list
             (一、 from numbering.xml, not typed), tables as Word tables
  NAME.html  the text inside a government-site page: navigation bar,
             breadcrumb, a related-articles list and a site footer with its
             own 主办单位 (none of which may reach the plan)
  NAME.pdf   headless Chromium's print-to-PDF of a plain rendering of the
             text, narrow enough that long paragraphs wrap, with page
             numbers and Chromium's running header and footer (date, page
             title, file address, "1/2"); two pages or more
Also scan.pdf (a page that is only a picture: no text layer) and old.doc
(the header of an OLE2 compound file, as Word 97-2003 and WPS write).
Each fixture must import to the same plan as its text form
(check_formats.py).
"""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = {
    "labels": os.path.join(HERE, "..", "cases", "simplified-labels", "input.txt"),
    "table": os.path.join(HERE, "table-plan.txt"),
}
SECTION = re.compile(r"^([一二三四五六七八九十]+)、(.*)$")


def chinese_numbering(doc):
    """A numbering definition: level 0 as 一、 (chineseCounting)."""
    numbering = doc.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "90")
    lvl = OxmlElement("w:lvl")
    lvl.set(qn("w:ilvl"), "0")
    for tag, val in (("w:start", "1"), ("w:numFmt", "chineseCounting"),
                     ("w:lvlText", "%1、")):
        e = OxmlElement(tag)
        e.set(qn("w:val"), val)
        lvl.append(e)
    abstract.append(lvl)
    numbering.insert(0, abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), "90")
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), "90")
    num.append(ref)
    numbering.append(num)
    return "90"


def numbered(paragraph, num_id):
    ppr = paragraph._p.get_or_add_pPr()
    numpr = OxmlElement("w:numPr")
    for tag, val in (("w:ilvl", "0"), ("w:numId", num_id)):
        e = OxmlElement(tag)
        e.set(qn("w:val"), val)
        numpr.append(e)
    ppr.append(numpr)


def make_docx(lines, out):
    doc = Document()
    num_id = chinese_numbering(doc)
    table = None
    for line in lines:
        cells = line.split(" ")
        if table is None and len(cells) >= 4 and cells[0] == "序号":
            table = doc.add_table(rows=0, cols=len(cells))
        if table is not None and len(cells) == len(table.columns):
            row = table.add_row()
            for cell, text in zip(row.cells, cells):
                cell.text = text
            continue
        table = None
        m = SECTION.match(line)
        if m:
            numbered(doc.add_paragraph(m.group(2)), num_id)
        else:
            doc.add_paragraph(line)
    doc.save(out)


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title} - xx县人民政府</title>
<style>body{{font-family:serif}} .nav a{{margin:4px}}</style>
<script>var _hmt = _hmt || []; document.write("统计代码");</script></head>
<body>
<div class="header"><div class="nav"><a href="/">首页</a><a href="/zwgk">政务公开</a>
<a href="/zcwj">政策文件</a><a href="/hdjl">互动交流</a><a href="/bsfw">办事服务</a></div></div>
<div class="position">当前位置:<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a>
 &gt; <a href="/tzgg">通知公告</a></div>
<div class="article"><h1>{title}</h1>
<div class="info">发布时间:2024-03-20 来源:县政府办公室</div>
<div id="zoom" class="TRS_Editor">
{body}
</div></div>
<div class="xgwz"><h3>相关文章</h3><ul>
<li><a href="/a1">2023年安全生产月活动方案</a></li>
<li><a href="/a2">关于开展消防宣传月活动的通知</a></li>
<li><a href="/a3">全民国家安全教育日宣传活动总结</a></li></ul></div>
<div class="footer"><p>主办单位:xx县人民政府办公室 承办:xx县大数据中心</p>
<p>版权所有 © xx县人民政府 备案号:X ICP备12345678号 网站标识码:1234000000</p></div>
</body></html>
"""


def body_html(lines):
    out, table = [], None
    for line in lines:
        cells = line.split(" ")
        if table is None and len(cells) >= 4 and cells[0] == "序号":
            table = len(cells)
            out.append("<table border=\"1\">")
        if table is not None and len(cells) == table:
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if table is not None:
            out.append("</table>")
            table = None
        out.append(f"<p>&nbsp;&nbsp;{html.escape(line)}</p>")
    if table is not None:
        out.append("</table>")
    return "\n".join(out)


def make_html(lines, out):
    with open(out, "w", encoding="utf-8") as f:
        f.write(PAGE.format(title=html.escape(lines[0]), body=body_html(lines[1:])))


PRINT = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page {{ size: A5; margin: 18mm 16mm; }}
body {{ font-family: "Noto Serif CJK SC", serif; font-size: 12pt; line-height: 1.6; }}
p {{ margin: 0 0 4pt 0; text-indent: 2em; }}
table {{ border-collapse: collapse; font-size: 7pt; }}
td {{ border: 1px solid #000; padding: 1pt; white-space: nowrap; }}
</style></head><body>
<p style="text-align:center">{title}</p>
{body}
</body></html>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("make_fixtures: chromium is needed for the PDF fixtures")


def print_pdf(page_html, out):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "page.html")
        with open(src, "w", encoding="utf-8") as f:
            f.write(page_html)
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={tmp}/profile",
                        f"--print-to-pdf={out}", src],
                       check=True, capture_output=True, timeout=120)


def make_pdf(lines, out):
    print_pdf(PRINT.format(title=html.escape(lines[0]), body=body_html(lines[1:])), out)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, path in DOCS.items():
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
        make_docx(lines, os.path.join(out, f"{name}.docx"))
        make_html(lines, os.path.join(out, f"{name}.html"))
        make_pdf(lines, os.path.join(out, f"{name}.pdf"))
    # A scan: a page that is only a picture (an inline SVG raster), no text layer.
    print_pdf("<!DOCTYPE html><html><body><svg width='400' height='300'>"
              "<rect width='400' height='300' fill='#ddd'/><circle cx='200' cy='150' "
              "r='80' fill='#333'/></svg></body></html>", os.path.join(out, "scan.pdf"))
    with open(os.path.join(out, "old.doc"), "wb") as f:
        f.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


if __name__ == "__main__":
    main()
