#!/usr/bin/python3
"""The peer for bench/bot: a python-telegram-bot 13 bot (Debian's
python3-python-telegram-bot) answering the benchmark's questions from the same
SQLite database, the way a small PTB bot would be written: Updater long
polling, CommandHandler/MessageHandler, one sqlite3 connection per call.

usage: ptb_bot.py BASE_URL DB [POLL_TIMEOUT]   (token from TELEGRAM_BOT_TOKEN;
       POLL_TIMEOUT: getUpdates long-poll seconds, default 1)
"""

import datetime
import html
import logging
import os
import signal
import sqlite3
import sys
import warnings

warnings.filterwarnings("ignore")
from telegram import ParseMode  # noqa: E402
from telegram.ext import CommandHandler, Filters, MessageHandler, Updater  # noqa: E402

DB = sys.argv[2]
TODAY = datetime.date.fromisoformat(os.environ.get("CAMPAIGN_NOW", "2027-10-08")[:10])


def db():
    return sqlite3.connect(DB, timeout=30)


def day(n):
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=n)


def due_text(due):
    if due is None:
        return "无截止日期"
    left = (day(due) - TODAY).days
    d = day(due)
    if left > 0:
        return "%d月%d日截止,还有%d天" % (d.month, d.day, left)
    if left == 0:
        return "%d月%d日截止,今天到期" % (d.month, d.day)
    return "%d月%d日截止,已逾期%d天" % (d.month, d.day, -left)


def find_unit(con, name):
    row = con.execute("SELECT id, name FROM units WHERE name = ? OR norm = ?",
                      (name, name)).fetchone()
    if row is None:
        row = con.execute("SELECT u.id, u.name FROM unit_aliases a JOIN units u "
                          "ON u.id = a.unit_id WHERE a.alias = ?", (name,)).fetchone()
    return row


def tasks(update, context):
    name = " ".join(context.args)
    with db() as con:
        unit = find_unit(con, name)
        if unit is None:
            update.message.reply_text("没有找到单位“%s”。" % html.escape(name))
            return
        rows = con.execute(
            "SELECT t.id, t.title, t.due_day, coalesce(s.percent, 0), s.done "
            "FROM tasks t JOIN task_units tu ON tu.task_id = t.id "
            "LEFT JOIN task_state s ON s.task_id = t.id AND s.unit_id = tu.unit_id "
            "WHERE tu.unit_id = ? ORDER BY t.due_day, t.seq", (unit[0],)).fetchall()
    lines = ["<b>%s</b> 的任务(%d项):" % (html.escape(unit[1]), len(rows))]
    for tid, title, due, pct, done in rows:
        lines.append("• <b>%s</b> %s\n   %s · %s" % (tid, html.escape(title), due_text(due),
                                                   "已完成" if done else "%d%%" % pct))
    update.message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


def task_reply(update, con, tid):
    t = con.execute("SELECT id, title, when_text, due_day FROM tasks WHERE id = ?",
                    (tid,)).fetchone()
    if t is None:
        update.message.reply_text("没有找到任务 %s" % html.escape(tid))
        return
    units = con.execute(
        "SELECT u.name, coalesce(s.percent, 0), s.done, s.note FROM task_units tu "
        "JOIN units u ON u.id = tu.unit_id LEFT JOIN task_state s ON s.task_id = tu.task_id "
        "AND s.unit_id = tu.unit_id WHERE tu.task_id = ? ORDER BY tu.seq", (tid,)).fetchall()
    pct = sum(u[1] for u in units) // len(units) if units else 0
    lines = ["<b>%s</b> %s" % (t[0], html.escape(t[1])),
             "时间:%s(%s)" % (html.escape(t[2] or ""), due_text(t[3])), "总进度:%d%%" % pct]
    for name, p, done, note in units:
        lines.append("• %s:%s" % (html.escape(name), "已完成" if done else "%d%%" % p))
    update.message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


def task(update, context):
    with db() as con:
        task_reply(update, con, " ".join(context.args))


def due(update, context):
    days = int(context.args[0]) if context.args and context.args[0].isdigit() else 7
    first = (TODAY - datetime.date(1970, 1, 1)).days
    with db() as con:
        rows = con.execute("SELECT id, title, due_day FROM tasks WHERE due_day BETWEEN ? AND ? "
                           "ORDER BY due_day, seq", (first, first + days)).fetchall()
    lines = ["%d天内截止的任务(%d项):" % (days, len(rows))]
    lines += ["• <b>%s</b> %s\n   %s" % (r[0], html.escape(r[1]), due_text(r[2])) for r in rows]
    update.message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


def countdown(update, context):
    with db() as con:
        key = con.execute("SELECT value FROM meta WHERE key = 'plan.key_date'").fetchone()
        n = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
        reported = con.execute("SELECT count(*) FROM task_state").fetchone()[0]
    left = (datetime.date.fromisoformat(key[0]) - TODAY).days if key else 0
    update.message.reply_text("关键日期还有 <b>%d</b> 天。%d项任务,%d项已汇报。"
                              % (left, n, reported), parse_mode=ParseMode.HTML)


def text(update, context):
    words = update.message.text
    for w in ("进度如何", "进度", "怎么样", "如何"):
        words = words.replace(w, "")
    with db() as con:
        row = con.execute("SELECT id FROM tasks WHERE instr(title, ?) > 0 LIMIT 1",
                          (words.strip(),)).fetchone()
        if row is not None:
            task_reply(update, con, row[0])
            return
    update.message.reply_text("没太明白。发 /help 查看用法。")


def main():
    logging.basicConfig(level=logging.WARNING)
    updater = Updater(os.environ["TELEGRAM_BOT_TOKEN"], base_url=sys.argv[1] + "/bot",
                      workers=4)
    dp = updater.dispatcher
    dp.add_handler(CommandHandler("tasks", tasks))
    dp.add_handler(CommandHandler("task", task))
    dp.add_handler(CommandHandler("due", due))
    dp.add_handler(CommandHandler("countdown", countdown))
    dp.add_handler(MessageHandler(Filters.text & ~Filters.command, text))
    timeout = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    updater.start_polling(timeout=timeout, poll_interval=0, drop_pending_updates=False)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    updater.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    main()
