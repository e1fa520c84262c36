// The cockpit's page. Telegram hands the page its signed initData and theme in the URL's
// fragment (#tgWebAppData=...&tgWebAppThemeParams=...); every API call sends the initData
// back as "Authorization: tma ...", and the server checks it each time. Nothing here is
// inserted as HTML: every text goes in through textContent.
"use strict";

(function () {
  const hash = new URLSearchParams(location.hash.slice(1));
  const tg = window.Telegram && window.Telegram.WebApp;
  const initData = (tg && tg.initData) || hash.get("tgWebAppData") || "";
  const api = new URL("../api/", location.href);
  let texts = {};
  let me = null;
  let period = "week";
  let chosenTeam = null;
  let chart = null;

  function postEvent(type, data) {
    const payload = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(type, payload);
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), "*");
      }
    } catch (e) { /* outside Telegram: nothing to tell */ }
  }

  function applyTheme() {
    let theme = {};
    try { theme = JSON.parse(hash.get("tgWebAppThemeParams") || "{}"); } catch (e) { theme = {}; }
    if (tg && tg.themeParams) theme = Object.assign(theme, tg.themeParams);
    for (const [name, value] of Object.entries(theme)) {
      if (/^#[0-9a-fA-F]{3,8}$/.test(String(value))) {
        document.documentElement.style.setProperty("--tg-" + name.replace(/_/g, "-"), value);
      }
    }
  }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function status(text) { document.getElementById("status").textContent = text || ""; }

  async function call(path, options) {
    const response = await fetch(new URL(path, api), Object.assign({
      headers: { "Authorization": "tma " + initData, "Content-Type": "application/json" },
    }, options || {}));
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.message || String(response.status));
      error.status = response.status;
      throw error;
    }
    return body;
  }

  const SECTIONS = ["team", "rep", "collections", "company", "map", "approvals"];

  function showSection(name) {
    for (const section of SECTIONS) document.getElementById(section).hidden = section !== name;
  }

  function showTab(name) {
    for (const button of document.querySelectorAll("#tabs button")) {
      button.classList.toggle("active", button.dataset.tab === name);
    }
    showSection(name);
    const load = { team: loadTeam, collections: loadCollections, company: loadCompany,
      map: loadMap, approvals: loadQueue }[name];
    load();
  }

  async function loadRep(id) {
    showSection("rep");
    window.scrollTo(0, 0);
    const list = document.getElementById("visits");
    list.replaceChildren();
    document.getElementById("rep-title").textContent = "";
    status(texts.loading);
    let page;
    try { page = await call("rep/" + id + "?" + new URLSearchParams({ period: period })); }
    catch (e) { status(e.message); return; }
    status(page.visits.length ? "" : page.empty);
    document.getElementById("rep-title").textContent = page.title;
    for (const visit of page.visits) {
      const marks = [visit.checkin, visit.stay, visit.attachments].filter(Boolean);
      const item = el("li", {}, [
        el("div", { className: "when" }, [
          el("span", { textContent: visit.when + " " + visit.kind }),
          el("span", { className: "purpose", textContent: visit.purpose }),
        ]),
        el("div", { className: "title", textContent: visit.customer }),
      ]);
      if (visit.note) item.append(el("div", { className: "text", textContent: visit.note }));
      if (visit.next_step) item.append(el("div", { className: "text hint", textContent: "→ " + visit.next_step }));
      if (marks.length) item.append(el("div", { className: "marks", textContent: marks.join(" · ") }));
      for (const flag of visit.flags) item.append(el("div", { className: "flag", textContent: flag }));
      if (visit.photos.length) item.append(photoStrip(visit.photos));
      item.dataset.visit = visit.id;
      list.append(item);
    }
  }

  // Photos are fetched with the sign-in header (an <img src> could not send it) and shown from
  // blob: addresses; only the server's stamped copies exist here.
  async function photoUrl(id, thumb) {
    const response = await fetch(new URL("photo/" + id + (thumb ? "?size=thumb" : ""), api), {
      headers: { "Authorization": "tma " + initData },
    });
    if (!response.ok) throw new Error(String(response.status));
    return URL.createObjectURL(await response.blob());
  }

  function photoStrip(ids) {
    const strip = el("div", { className: "photos" });
    for (const id of ids) {
      const img = el("img", { alt: texts.photo_alt, className: "thumb" });
      img.dataset.photo = id;
      photoUrl(id, true).then((url) => { img.src = url; }, () => img.remove());
      img.addEventListener("click", () => enlarge(id));
      strip.append(img);
    }
    return strip;
  }

  async function enlarge(id) {
    const img = el("img", { alt: texts.photo_alt });
    const close = el("button", { type: "button", className: "close", textContent: "×" });
    close.setAttribute("aria-label", texts.close);
    const overlay = el("div", { id: "photo-view" }, [img, close]);
    overlay.addEventListener("click", () => { URL.revokeObjectURL(img.src); overlay.remove(); });
    document.body.append(overlay);
    try { img.src = await photoUrl(id, false); } catch (e) { overlay.remove(); }
  }

  function moneyTable(table, columns, rows, totals, first, onTap) {
    table.replaceChildren();
    table.append(el("thead", {}, [el("tr", {}, [
      el("th", { textContent: first }),
      ...columns.map((c) => el("th", { textContent: c.label })),
    ])]));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr", { className: "row" }, [
        el("td", { textContent: row.name }),
        ...columns.map((c) => {
          const cell = el("td", { textContent: row.values[c.key] });
          cell.dataset.metric = c.key;
          return cell;
        }),
      ]);
      if (onTap && row.id !== null) {
        tr.classList.add("tap");
        tr.addEventListener("click", () => onTap(row));
      }
      body.append(tr);
    }
    table.append(body);
    if (totals) {
      table.append(el("tfoot", {}, [el("tr", {}, [el("td", { textContent: texts.team_total }),
        ...columns.map((c) => el("td", { textContent: totals[c.key] }))])]));
    }
  }

  async function loadCollections() {
    status(texts.loading);
    const query = new URLSearchParams();
    if (chosenTeam) query.set("team", chosenTeam);
    let page;
    try { page = await call("collections?" + query); } catch (e) { status(e.message); return; }
    status(page.reps.length ? "" : page.empty);
    document.getElementById("collections-title").textContent = page.title;
    const table = document.getElementById("aging");
    if (!page.reps.length) { table.replaceChildren(); return; }
    // Buckets nobody has money in are left out, as the chat's aging lines leave them out.
    const columns = page.columns.filter((c) => page.totals[c.key] !== "");
    moneyTable(table, columns, page.reps, page.totals, texts.rep, null);
  }

  async function loadCompany() {
    status(texts.loading);
    let page;
    try { page = await call("company?" + new URLSearchParams({ period: period })); }
    catch (e) { status(e.message); return; }
    status("");
    document.getElementById("company-title").textContent = page.title;
    const columns = page.columns.filter((c) => page.teams.some((t) => t.values[c.key] !== "" &&
      (t.raw[c.key] === undefined || t.raw[c.key] !== 0)));
    moneyTable(document.getElementById("teams"), columns, page.teams, null, texts.team_col,
      (row) => {
        chooseTeam(String(row.id));
        showTab("team");
      });
  }

  async function loadTeam() {
    status(texts.loading);
    const query = new URLSearchParams({ period: period });
    if (chosenTeam) query.set("team", chosenTeam);
    let page;
    try { page = await call("team?" + query); } catch (e) { status(e.message); return; }
    status("");
    document.getElementById("team-title").textContent = page.title;
    drawChart(page);
    drawTable(page);
  }

  function shownColumns(page) {
    // Zeros are left out: a column shows when it has a target or any rep has a figure.
    return page.columns.filter((c) => c.target !== null ||
      page.reps.some((r) => r.raw[c.key] !== 0));
  }

  function drawTable(page) {
    const table = document.getElementById("reps");
    table.replaceChildren();
    if (!page.reps.length) { status(texts.no_reps); return; }
    const columns = shownColumns(page);
    table.append(el("thead", {}, [el("tr", {}, [
      el("th", { textContent: texts.rep }),
      ...columns.map((c) => el("th", { textContent: c.label })),
    ])]));
    const body = el("tbody");
    for (const rep of page.reps) {
      const row = el("tr", { className: "rep tap" }, [
        el("td", { textContent: rep.name }),
        ...columns.map((c) => {
          const cell = el("td", { textContent: rep.values[c.key] });
          cell.dataset.metric = c.key;
          if (c.target !== null) {
            cell.append(el("small", { textContent: " / " + c.target }));
            if (rep.raw[c.key] < c.target) cell.classList.add("below");
          }
          return cell;
        }),
      ]);
      row.addEventListener("click", () => loadRep(rep.id));
      body.append(row);
    }
    table.append(body);
    table.append(el("tfoot", {}, [
      el("tr", {}, [el("td", { textContent: texts.team_total }),
        ...columns.map((c) => el("td", { textContent: page.totals[c.key] }))]),
      el("tr", { className: "previous" }, [el("td", { textContent: texts.previous }),
        ...columns.map((c) => el("td", { textContent: page.previous[c.key] }))]),
    ]));
  }

  function drawChart(page) {
    const target = (key) => (page.columns.find((c) => c.key === key) || {}).target;
    const names = page.reps.map((r) => r.name);
    const label = (key) => (page.columns.find((c) => c.key === key) || {}).label;
    const data = {
      labels: names,
      datasets: [
        { label: label("in_person"), data: page.reps.map((r) => r.raw.in_person),
          backgroundColor: css("--button") },
        { label: label("phone"), data: page.reps.map((r) => r.raw.phone),
          backgroundColor: css("--hint") },
        { type: "line", label: texts.chart_target + " · " + label("in_person"), data: names.map(() => target("in_person")),
          borderColor: css("--danger"), borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
      ],
    };
    if (chart) chart.destroy();
    if (!window.Chart) return;
    Chart.defaults.color = css("--text");
    chart = new Chart(document.getElementById("chart"), {
      type: "bar",
      data: data,
      options: {
        maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  // -- Map ------------------------------------------------------------------------------
  // Leaflet (shipped in static/, BSD-2) is loaded the first time the Map is opened, so the
  // first page stays small. Points arrive already in the tiles' datum (GCJ-02 for Amap).
  const PALETTE = ["#2481cc", "#e8772e", "#3aa757", "#9c5fd6", "#d6a21e", "#1fa5a5", "#c2417f",
    "#6d7f2b", "#8a5a44", "#4b5bd6", "#d64b4b", "#5f8f8f"];
  // Narrow enough for a phone's map with room to spare on both sides.
  const POPUP = { maxWidth: 240, autoPanPadding: [16, 16] };
  let mapRep = "";
  let mapAsked = 0;
  let leafletMap = null;
  let mapLayer = null;
  let leafletReady = null;

  function attach(tag, attrs) {
    return new Promise((resolve, reject) => {
      const node = Object.assign(document.createElement(tag), attrs);
      node.onload = resolve;
      node.onerror = () => reject(new Error(texts.failed));
      document.head.append(node);
    });
  }

  function leaflet() {
    if (!leafletReady) {
      leafletReady = Promise.all([
        attach("link", { rel: "stylesheet", href: "static/leaflet.css" }),
        attach("script", { src: "static/leaflet.js" }),
      ]);
    }
    return leafletReady;
  }

  function repColour(index) { return PALETTE[index % PALETTE.length]; }

  function fillRepChoice(page) {
    const choice = document.getElementById("map-rep");
    choice.replaceChildren(el("option", { value: "", textContent: texts.map_all_reps }));
    for (const rep of page.reps) choice.append(el("option", { value: String(rep.id), textContent: rep.name }));
    choice.value = mapRep;
  }

  function popup(lines) {
    return el("div", { className: "popup" }, lines.filter(Boolean).map((line, i) =>
      el(i === 0 ? "b" : "div", { className: line.flag ? "flag" : "", textContent: line.text || line })));
  }

  function drawLegend(page, colours) {
    const legend = document.getElementById("map-legend");
    legend.replaceChildren();
    const shown = mapRep ? page.reps.filter((r) => String(r.id) === mapRep) : page.reps;
    const withPoints = new Set(page.checkins.map((c) => c.rep));
    for (const rep of shown) {
      if (!withPoints.has(rep.id)) continue;
      const dot = el("span", { className: "dot" });
      dot.style.background = colours.get(rep.id);
      legend.append(el("li", {}, [dot, rep.name]));
    }
    const flagged = el("span", { className: "dot flagged" });
    legend.append(el("li", {}, [flagged, texts.map_flagged]));
    legend.append(el("li", {}, [el("span", { className: "customer-key" }), texts.map_customers]));
  }

  function drawMap(page) {
    const box = document.getElementById("map-box");
    if (!leafletMap) {
      // No fades or zoom animations: a phone in a webview draws the points at once.
      leafletMap = L.map(box, { zoomControl: true, attributionControl: true, zoomSnap: 0.5,
        fadeAnimation: false, zoomAnimation: false, markerZoomAnimation: false });
      leafletMap.attributionControl.setPrefix(false);
      // Customers under the check-ins: a check-in at a customer stays visible and tappable.
      leafletMap.createPane("customers").style.zIndex = 350;
      if (page.tiles) {
        L.tileLayer(page.tiles.url, { subdomains: page.tiles.subdomains || "abc",
          attribution: page.tiles.attribution, maxZoom: 18, minZoom: 3 }).addTo(leafletMap);
      } else {
        box.classList.add("no-tiles");
      }
      mapLayer = L.featureGroup().addTo(leafletMap);
    }
    leafletMap.invalidateSize();
    mapLayer.clearLayers();
    // Colours follow the team's list, so a rep keeps theirs when the map is narrowed to them.
    const colours = new Map(page.reps.map((rep, i) => [rep.id, repColour(i)]));
    const names = new Map(page.reps.map((rep) => [rep.id, rep.name]));
    for (const place of page.customers) {
      const icon = L.divIcon({ className: "customer-pin", iconSize: [12, 12], html: el("span") });
      L.marker([place.lat, place.lon], { icon: icon, title: place.name, keyboard: false,
        pane: "customers" })
        .bindPopup(popup([place.name, place.owner]), POPUP).addTo(mapLayer);
    }
    // Flagged check-ins last, so they are on top where points crowd.
    const ordered = page.checkins.filter((c) => !c.flag).concat(page.checkins.filter((c) => c.flag));
    const danger = css("--danger");
    for (const point of ordered) {
      L.circleMarker([point.lat, point.lon], {
        className: "checkin rep-" + point.rep + (point.flag ? " flagged" : ""),
        radius: point.flag ? 8 : 6, weight: point.flag ? 3 : 1.5,
        color: point.flag ? danger : "#ffffff", fillColor: colours.get(point.rep) || PALETTE[0],
        fillOpacity: 0.9,
      }).bindPopup(popup([point.customer, (names.get(point.rep) || "") + " · " + point.when,
        point.flag ? { text: point.flag, flag: true } : ""]), POPUP).addTo(mapLayer);
    }
    const bounds = mapLayer.getBounds();
    if (bounds.isValid()) {
      leafletMap.fitBounds(bounds, { padding: [28, 28], maxZoom: 15 });
    } else {
      leafletMap.setView([35, 105], 4);  // nothing to show: mainland China
    }
    drawLegend(page, colours);
  }

  async function loadMap() {
    status(texts.loading);
    const query = new URLSearchParams({ period: period });
    if (chosenTeam) query.set("team", chosenTeam);
    if (mapRep) query.set("rep", mapRep);
    const asked = ++mapAsked;
    let page;
    try { [page] = await Promise.all([call("map?" + query), leaflet()]); }
    catch (e) { if (asked === mapAsked) status(e.message); return; }
    // A quicker answer to a later choice (another team, rep or period) wins over this one.
    if (asked !== mapAsked) return;
    status(page.checkins.length || page.customers.length ? "" : page.empty);
    document.getElementById("map-title").textContent = page.title;
    document.getElementById("map-summary").textContent = page.summary;
    fillRepChoice(page);
    drawMap(page);
  }

  function chooseTeam(id) {
    chosenTeam = id;
    mapRep = "";
    for (const choice of document.querySelectorAll(".team-choice")) choice.value = id;
  }

  async function loadQueue() {
    status(texts.loading);
    let page;
    try { page = await call("approvals"); } catch (e) { status(e.message); return; }
    const list = document.getElementById("queue");
    list.replaceChildren();
    status(page.items.length ? "" : texts.no_pending);
    for (const item of page.items) list.append(requestCard(item));
  }

  function requestCard(item) {
    const note = el("p", { className: "done" });
    const reason = el("textarea", { placeholder: texts.reason, hidden: true });
    const approve = el("button", { type: "button", textContent: texts.approve });
    const reject = el("button", { type: "button", className: "reject", textContent: texts.reject });
    const actions = el("div", { className: "actions" }, [approve, reject]);
    const card = el("li", {}, [
      el("div", { className: "title", textContent: item.title }),
      el("div", { className: "text", textContent: item.text }),
      reason, actions, note,
    ]);
    card.dataset.request = item.id;
    async function decide(action) {
      approve.disabled = reject.disabled = true;
      try {
        await call("approvals/" + item.id, { method: "POST",
          body: JSON.stringify({ step: item.step, action: action, reason: reason.value }) });
        actions.remove(); reason.remove();
        note.textContent = action === "approve" ? "✅ " + texts.approve : "❌ " + texts.reject;
      } catch (e) {
        note.textContent = e.message;
        approve.disabled = reject.disabled = false;
      }
    }
    approve.addEventListener("click", () => decide("approve"));
    reject.addEventListener("click", () => {
      if (reason.hidden) { reason.hidden = false; reject.textContent = texts.send_reject; reason.focus(); return; }
      decide("reject");
    });
    return card;
  }

  async function start() {
    applyTheme();
    postEvent("web_app_ready");
    postEvent("web_app_expand");
    try { me = await call("me"); } catch (e) { status(e.message); return; }
    texts = me.texts;
    document.documentElement.lang = me.lang === "zh" ? "zh-CN" : "en";
    document.title = texts.title;
    for (const button of document.querySelectorAll("#tabs button")) {
      button.textContent = texts["tab_" + button.dataset.tab];
    }
    // The company roll-up is for those who see every team (the server refuses anyone else).
    document.querySelector('#tabs button[data-tab="company"]').hidden = !me.teams.length;
    const periodButtons = document.querySelectorAll(".segmented button");
    for (const button of periodButtons) {
      button.textContent = button.dataset.period === "week" ? texts.week : texts.month;
      button.addEventListener("click", () => {
        period = button.dataset.period;
        for (const other of periodButtons) other.classList.toggle("active", other.dataset.period === period);
        const section = button.closest("section").id;
        ({ company: loadCompany, map: loadMap }[section] || loadTeam)();
      });
    }
    document.getElementById("rep-back").textContent = texts.back;
    document.getElementById("rep-back").addEventListener("click", () => showTab("team"));
    if (me.teams.length) {
      for (const choice of document.querySelectorAll(".team-choice")) {
        for (const team of me.teams) {
          choice.append(el("option", { value: String(team.id), textContent: team.name }));
        }
        choice.hidden = false;
        choice.addEventListener("change", () => {
          chooseTeam(choice.value);
          if (choice.id === "map-team") loadMap(); else loadTeam();
        });
      }
      chooseTeam(String(me.team_id || me.teams[0].id));
    }
    document.getElementById("map-rep").addEventListener("change", (event) => {
      mapRep = event.target.value;
      loadMap();
    });
    for (const button of document.querySelectorAll("#tabs button")) {
      button.addEventListener("click", () => showTab(button.dataset.tab));
    }
    document.getElementById("tabs").hidden = false;
    showTab("team");
  }

  start();
})();
