#!/usr/bin/python3
"""campaignctl bulletin (issue 15): the 通报 from the store as of a day.

A fresh database with the seed plan, reports made on given days, an
announcement and one unit's written summary; then the .docx is read with
python-docx (paragraphs, the table, A4 and the GB/T 9704-2012 margins and
fonts), the PDF with pdftotext (units and figures) and pdffonts (Noto CJK
embedded), and page 1 is rendered with pdftoppm as a test artifact
(ARTIFACTS/bulletin-page1.png) for a person to look at.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import docx

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--artifacts", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bulletin-test-")
    db = os.path.join(tmp, "campaign.db")

    def ctl(*argv, now="2027-10-08T09:00:00+08:00"):
        env = dict(os.environ, CAMPAIGN_NOW=now)
        p = subprocess.run([args.ctl, "--db", db] + list(argv), capture_output=True,
                           text=True, env=env, timeout=120)
        if p.returncode != 0:
            raise Failure("campaignctl %s: %s" % (" ".join(argv), p.stderr))
        return p.stdout

    try:
        ctl("plan", "load", args.plan)
        ctl("report", "2.4", "市扶贫办", "60", now="2027-10-05T10:00:00+08:00")
        ctl("report", "2.1", "市委政研室", "done", now="2027-10-06T10:00:00+08:00")
        ctl("broadcast", "请各单位10月31日前报送活动总结。", now="2027-10-06T11:00:00+08:00")
        # one written summary, as the bot records a file received by mail
        con = sqlite3.connect(db)
        con.execute("INSERT INTO files(sha256, size, stored_at) VALUES('ab', 10, 0)")
        con.execute("INSERT INTO submissions(task_id, unit_id, sha256, name, size, channel, "
                    "sender, source_id, received_at) SELECT '3.4', id, 'ab', '总结.docx', 10, "
                    "'mail', 'x@y', 'k1', 1822960800 FROM units WHERE name = '市委宣传部'")
        con.commit()
        con.close()

        out_docx = os.path.join(tmp, "通报.docx")
        out_pdf = os.path.join(tmp, "通报.pdf")
        ctl("bulletin", "--date", "2027-10-08", "-o", out_docx, "--pdf", out_pdf)

        d = docx.Document(out_docx)
        sec = d.sections[0]
        check(abs(sec.page_width.mm - 210) < 0.5 and abs(sec.page_height.mm - 297) < 0.5,
              "A4: %.1f x %.1f mm" % (sec.page_width.mm, sec.page_height.mm))
        check(abs(sec.top_margin.mm - 37) < 0.5 and abs(sec.left_margin.mm - 28) < 0.5,
              "GB/T 9704 margins: top %.1f left %.1f" % (sec.top_margin.mm,
                                                           sec.left_margin.mm))
        texts = [p.text for p in d.paragraphs]
        check("关于“扶贫日”活动进展情况的通报" in texts, "the title: %r" % texts[:4])
        check(any("〔2027〕" in t for t in texts), "the 文号 placeholder")
        body = next(p for p in d.paragraphs if p.text.startswith("截至2027年10月8日"))
        check("距10月17日还有9天" in body.text and "总体进度" in body.text,
              "overall progress and days to the key date: " + body.text)
        run = body.runs[0]
        check(run.font.size.pt == 16, "body in 3号 (16 pt): %s" % run.font.size.pt)
        check(run.element.rPr.rFonts.get(W + "eastAsia") == "仿宋_GB2312", "body in 仿宋_GB2312")
        title = next(p for p in d.paragraphs if p.text.startswith("关于"))
        check(title.runs[0].element.rPr.rFonts.get(W + "eastAsia") == "方正小标宋简体"
              and title.runs[0].font.size.pt == 22, "title in 2号 方正小标宋简体")
        check(len(d.tables) == 1, "one table")
        rows = d.tables[0].rows
        check(len(rows) == 8, "a header and the 7 tasks: %d rows" % len(rows))
        check([c.text for c in rows[0].cells] == ["序号", "任务", "完成时限", "责任单位及进度",
                                                  "状态"], "table header")
        row24 = next(r for r in rows if r.cells[0].text == "2.4")
        check("市扶贫办 60%" in row24.cells[3].text, "2.4's units: " + row24.cells[3].text)
        summary = next(t for t in texts if t.startswith("“扶贫日”活动的初步情况总结"))
        check("已报送1个单位，市委宣传部" in summary and "尚未报送14个单位" in summary,
              "summaries received and missing: " + summary)
        check(any("请各单位10月31日前报送活动总结" in t for t in texts), "the announcement")
        check(texts[-1] == "2027年10月8日", "成文日期 last: %r" % texts[-1])

        pdf = subprocess.run(["pdftotext", "-layout", out_pdf, "-"], capture_output=True,
                             text=True, check=True).stdout
        flat = "".join(pdf.split())
        for want in ["关于“扶贫日”活动进展情况的通报", "市扶贫办60%", "市委宣传部",
                     "已报送1个单位", "总体进度", "2027年10月8日"]:
            check(want in flat, "the PDF shows %s" % want)
        fonts = subprocess.run(["pdffonts", out_pdf], capture_output=True, text=True,
                               check=True).stdout
        noto = [line for line in fonts.splitlines() if "NotoSerifCJK" in line]
        check(noto and all(" yes yes " in line for line in noto), "Noto CJK embedded: " + fonts)
        info = subprocess.run(["pdfinfo", out_pdf], capture_output=True, text=True,
                              check=True).stdout
        check("(A4)" in info, "the PDF is A4")

        # as of an earlier day: the 60% of 10-05 is not there yet
        early = os.path.join(tmp, "early.pdf")
        ctl("bulletin", "--date", "2027-10-04", "--pdf", early)
        text = "".join(subprocess.run(["pdftotext", early, "-"], capture_output=True,
                                      text=True, check=True).stdout.split())
        check("市扶贫办60%" not in text and "市扶贫办未报告" in text,
              "a bulletin as of 10-04 does not know the report of 10-05")

        os.makedirs(args.artifacts, exist_ok=True)
        prefix = os.path.join(args.artifacts, "bulletin-page1")
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", "1", "-l", "1",
                        out_pdf, prefix], check=True)
        check(os.path.getsize(prefix + ".png") > 10000, "page 1 rendered")
        shutil.copy(out_docx, os.path.join(args.artifacts, "bulletin.docx"))
        shutil.copy(out_pdf, os.path.join(args.artifacts, "bulletin.pdf"))
        print("ok bulletin (page 1 in %s.png)" % prefix)
        return 0
    except Failure as e:
        print("FAIL bulletin: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
