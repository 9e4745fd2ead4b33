/*
 * The campaign board. It renders only what campaign-bridge publishes
 * (docs/mqtt.md): complete from the retained topics on the first load
 * (summary, tasks/<id>, announcements/current, bridge/status), then live
 * from events, announcements and reminders. Events are de-duplicated by
 * id. "Today", days left and expiry come from the bridge's payloads, never
 * from this browser's clock, so a rehearsal with CAMPAIGN_NOW shows the
 * campaign's day. Payloads with an unknown "v" are ignored.
 */
"use strict";

(function () {
  var VERSION = 1;
  var REMINDERS_SHOWN = 4;
  var SEEN_MAX = 2000;
  var params = new URLSearchParams(location.search);
  var layout = params.get("layout") || "landscape";
  if (["landscape", "portrait", "ticker"].indexOf(layout) < 0) layout = "landscape";
  var defaultBroker = (location.protocol === "https:" ? "wss://" : "ws://") +
      (location.host || "127.0.0.1:8080");
  var brokerUrl = params.get("broker") || defaultBroker;

  var state = {
    prefix: params.get("prefix"),
    connected: false,
    status: null,            /* "online" / "offline" from <prefix>/bridge/status */
    summary: null,
    tasks: {},               /* task id -> retained payload */
    notices: {},             /* event id -> announcement */
    listMaxId: 0,            /* the highest id announcements/current listed */
    reminders: [],           /* newest first */
    seen: {},                /* event ids already applied */
    seenOrder: [],
    bridgeNow: null,         /* the newest "ts" among the bridge's payloads */
    lastUpdate: null,        /* ... as text, for the offline label */
    updates: 0,
    subscribed: {},          /* topic filters subscribed on this connection */
    subscribeTasks: null,
  };
  window.board = state;      /* for the tests and the curious */

  function el(id) { return document.getElementById(id); }

  function make(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* "2027-10-08T09:00:00+08:00" -> its instant in ms (parsing, not the local clock). */
  function instant(iso) {
    var t = Date.parse(iso);
    return isNaN(t) ? null : t;
  }

  function noteTime(ts) {
    var t = typeof ts === "string" ? instant(ts) : null;
    if (t === null) return;
    if (state.bridgeNow === null || t >= state.bridgeNow) {
      state.bridgeNow = t;
      state.lastUpdate = ts;
    }
  }

  /* "2027-10-17" -> "10·17" */
  function monthDay(date) {
    var m = /^\d{4}-(\d{2})-(\d{2})$/.exec(date || "");
    return m ? String(+m[1]) + "·" + String(+m[2]) : "";
  }

  function shortTime(iso) {
    var m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[1] + "-" + m[2] + " " + m[3] + ":" + m[4] : "";
  }

  function daysLeftText(t) {
    if (t.done) return "已完成";
    if (t.days_left === null || t.days_left === undefined) return "";
    if (t.days_left < 0) return "逾期 " + (-t.days_left) + " 天";
    if (t.days_left === 0) return "今天截止";
    return "还有 " + t.days_left + " 天";
  }

  function unitText(u) {
    if (u.done) return u.unit + " 已完成";
    if (!u.reported) return u.unit + " 未汇报";
    return u.unit + " " + u.percent + "%";
  }

  function renderHead() {
    var s = state.summary;
    var cd = el("countdown");
    cd.textContent = "";
    if (!s) return;
    el("title").textContent = s.title;
    el("theme").textContent = s.theme || "";
    document.title = s.title;
    if (s.key_date && s.days_to_key !== null) {
      var key = monthDay(s.key_date), n = s.days_to_key;
      if (n > 0) {
        cd.appendChild(document.createTextNode("距" + key + "还有"));
        cd.appendChild(make("span", "n", String(n)));
        cd.appendChild(document.createTextNode("天"));
      } else if (n === 0) {
        cd.textContent = "今天是" + key;
      } else {
        cd.textContent = key + "已过 " + (-n) + " 天";
      }
    }
    el("overall-fill").style.width = s.percent + "%";
    el("overall-text").textContent = "总进度 " + s.percent + "% · 完成 " + s.done + "/" +
        s.tasks + " · 逾期 " + s.overdue + " · 已汇报 " + s.reported + "/" +
        s.responsibilities + submittedText(s) + " · 今天 " + monthDay(s.today);
  }

  /* The units' written summaries (issue 15): only when the plan asks for some. */
  function submittedText(s) {
    if (typeof s.submissions_owed !== "number" || s.submissions_owed <= 0) return "";
    return " · 总结已交 " + (s.submitted || 0) + "/" + s.submissions_owed;
  }

  function byDue(a, b) {
    var da = a.due || "9999", db = b.due || "9999";
    if (da !== db) return da < db ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  function renderTasks() {
    var box = el("tasks");
    var list = Object.keys(state.tasks).map(function (k) { return state.tasks[k]; });
    list.sort(byDue);
    box.textContent = "";
    list.forEach(function (t) {
      var card = make("div", "task" + (t.overdue ? " overdue" : "") + (t.done ? " done" : ""));
      card.dataset.task = t.id;
      var head = make("div", "task-head");
      head.appendChild(make("span", "task-id", t.id));
      head.appendChild(make("span", "task-title", t.title));
      head.appendChild(make("span", "task-due", t.due ? monthDay(t.due) + " 截止" : (t.when || "")));
      head.appendChild(make("span", "task-left", daysLeftText(t)));
      card.appendChild(head);
      var bar = make("div", "bar"), fill = make("div", "fill");
      fill.style.width = t.percent + "%";
      bar.appendChild(fill);
      card.appendChild(bar);
      var units = make("div", "units");
      t.units.forEach(function (u) {
        var chip = make("span", "unit" + (u.done ? " done" : u.reported ? "" : " missing"),
            unitText(u));
        chip.dataset.unit = u.unit;
        units.appendChild(chip);
      });
      // A task that asks for a document (issue 15): how many units have sent it.
      if (typeof t.submissions_owed === "number" && t.submissions_owed > 0) {
        var all = (t.submitted || 0) >= t.submissions_owed;
        units.appendChild(make("span", "unit deliverable" + (all ? " done" : ""),
            "总结已交 " + (t.submitted || 0) + "/" + t.submissions_owed));
      }
      card.appendChild(units);
      box.appendChild(card);
    });
  }

  function currentNotices() {
    var out = [];
    Object.keys(state.notices).forEach(function (k) {
      var n = state.notices[k], until = n.expires_at ? instant(n.expires_at) : null;
      if (until !== null && state.bridgeNow !== null && until <= state.bridgeNow) return;
      out.push(n);
    });
    out.sort(function (a, b) { return b.id - a.id; });
    return out;
  }

  function renderTicker() {
    var ticker = el("ticker"), track = el("ticker-track"), list = currentNotices();
    track.textContent = "";
    list.forEach(function (n) {
      var item = make("span", "ticker-item", n.text);
      item.dataset.id = String(n.id);
      track.appendChild(item);
    });
    ticker.hidden = list.length === 0;
    /* about 8 characters a second, whatever the texts' length */
    var chars = list.reduce(function (a, n) { return a + n.text.length + 4; }, 0);
    track.style.setProperty("--scroll", Math.max(12, Math.round(chars / 8)) + "s");
    ticker.classList.add("static");
    if (track.scrollWidth > ticker.clientWidth) ticker.classList.remove("static");
  }

  function renderReminders() {
    var ul = el("reminder-list");
    ul.textContent = "";
    state.reminders.slice(0, REMINDERS_SHOWN).forEach(function (r) {
      var t = r.task || {}, left = r.days_left;
      var when = left < 0 ? "逾期 " + (-left) + " 天" : left === 0 ? "今天截止" : "还有 " + left + " 天";
      ul.appendChild(make("li", "", (t.id || "") + " " + (t.title || "") + " · " +
          (r.unit || "") + " · " + when));
    });
    el("reminders").hidden = state.reminders.length === 0;
  }

  function renderStatus() {
    var offline = !state.connected || state.status === "offline";
    document.body.classList.toggle("offline", offline);
    document.body.classList.remove("connecting");
    el("offline-since").textContent = state.lastUpdate ?
        "最后更新 " + shortTime(state.lastUpdate) : "";
  }

  var pending = false;
  function render() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      renderHead();
      renderTasks();
      renderTicker();
      renderReminders();
      renderStatus();
      state.updates++;
      document.body.dataset.updates = String(state.updates);
    });
  }

  /* true the first time an event id is seen */
  function fresh(id) {
    if (typeof id !== "number" || state.seen[id]) return false;
    state.seen[id] = true;
    state.seenOrder.push(id);
    if (state.seenOrder.length > SEEN_MAX) delete state.seen[state.seenOrder.shift()];
    return true;
  }

  function onEvent(sub, p) {
    if (!fresh(p.id)) return;
    noteTime(p.ts);
    if (p.type === "announcement" && p.id > state.listMaxId) {
      state.notices[p.id] = { id: p.id, ts: p.ts, text: p.text, units: p.units || null,
        expires_at: p.expires_at || null };
    } else if (p.type === "reminder") {
      state.reminders.unshift(p);
      state.reminders.length = Math.min(state.reminders.length, 20);
    }
  }

  function onList(p) {
    var keep = {};
    noteTime(p.ts);
    state.listMaxId = 0;
    p.announcements.forEach(function (n) {
      keep[n.id] = n;
      state.listMaxId = Math.max(state.listMaxId, n.id);
    });
    /* Live ones newer than the list stay until the next list names them. */
    Object.keys(state.notices).forEach(function (k) {
      if (+k > state.listMaxId && !keep[k]) keep[k] = state.notices[k];
    });
    state.notices = keep;
  }

  function onMessage(topic, payload) {
    var rest = topic.slice(state.prefix.length + 1), text = payload.toString(), p;
    if (rest === "bridge/status") {
      state.status = text;
      render();
      return;
    }
    if (text === "") {                      /* a retained topic cleared */
      if (rest.indexOf("tasks/") === 0) delete state.tasks[rest.slice(6)];
      render();
      return;
    }
    try { p = JSON.parse(text); } catch (e) { return; }
    if (!p || p.v !== VERSION) {
      console.warn("board: ignoring", topic, "with v", p && p.v);
      return;
    }
    if (rest === "summary") {
      state.summary = p;
      noteTime(p.ts);
      if (Array.isArray(p.task_ids) && state.subscribeTasks) state.subscribeTasks(p.task_ids);
    } else if (rest.indexOf("tasks/") === 0) {
      state.tasks[p.id] = p;
      noteTime(p.ts);
    } else if (rest === "announcements/current") {
      onList(p);
    } else if (rest === "events" || rest === "announcements" || rest === "reminders") {
      onEvent(rest, p);
    } else {
      return;
    }
    render();
  }

  function start() {
    document.body.className = "layout-" + layout + " connecting";
    var client = mqtt.connect(brokerUrl, {
      protocolVersion: 4,                 /* 3.1.1: mosquitto and RabbitMQ alike */
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 5000,
      keepalive: 10,
      clientId: "board-" + Math.random().toString(16).slice(2, 10),
    });
    var discovering = false;
    /*
     * Everything under the prefix, and the retained topics one by one too: a
     * broker that keeps retained messages only for exact filters (RabbitMQ,
     * docs/mqtt.md) gives them to no wildcard. The summary names the tasks.
     */
    function subscribeExact(topic) {
      if (state.subscribed[topic]) return;
      state.subscribed[topic] = true;
      client.subscribe(topic, { qos: 1 });
    }
    function subscribeAll() {
      subscribeExact(state.prefix + "/#");
      ["summary", "announcements/current", "bridge/status"].forEach(function (t) {
        subscribeExact(state.prefix + "/" + t);
      });
    }
    state.subscribeTasks = function (ids) {
      ids.forEach(function (id) { subscribeExact(state.prefix + "/tasks/" + id); });
    };
    client.on("connect", function () {
      state.connected = true;
      state.subscribed = {};
      if (state.prefix) {
        subscribeAll();
      } else {
        discovering = true;
        client.subscribe("campaign/+/summary", { qos: 1 });
      }
      render();
    });
    client.on("message", function (topic, payload) {
      if (discovering) {
        discovering = false;
        state.prefix = topic.slice(0, -"/summary".length);
        client.unsubscribe("campaign/+/summary");
        subscribeAll();
        return;
      }
      if (state.prefix && topic.indexOf(state.prefix + "/") === 0) onMessage(topic, payload);
    });
    ["close", "offline"].forEach(function (ev) {
      client.on(ev, function () {
        if (!state.connected) return;
        state.connected = false;
        render();
      });
    });
    client.on("error", function (e) { console.warn("board: mqtt", e && e.message); });
    render();
  }

  start();
})();
