// aksaudit HTML report. Every value from the scan reaches the page through textContent or
// setAttribute, never as markup: resource and rule names are attacker-controlled.
(function () {
  "use strict";

  // Repeated long strings (ARM ids) are embedded once and referenced as NUL + table index.
  var STRINGS = JSON.parse(document.getElementById("report-strings").textContent);
  var DATA = JSON.parse(document.getElementById("report-data").textContent, function (key, value) {
    return typeof value === "string" && value.charCodeAt(0) === 0 ? STRINGS[Number(value.slice(1))] : value;
  });
  var RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var PAGE_SIZE = 100;
  var CLUSTERS_PER_PAGE = 10;
  var COLLAPSE_AT = 20; // more clusters than this: a searchable list, each diagram drawn on demand
  var LISTED_PER_PAGE = 50;
  var DETAIL_DIAGRAMS = 2; // paths drawn in a finding's detail view; the rest are counted
  var SVG = "http://www.w3.org/2000/svg";

  // Path boxes arrive as positional rows (see stage_fields); give them names once.
  DATA.paths.forEach(function (path) {
    path.stages = path.stages.map(function (row) {
      var box = {};
      DATA.stage_fields.forEach(function (field, i) { box[field] = row[i]; });
      return box;
    });
  });

  var findings = DATA.findings.map(function (f, index) {
    return {
      f: f,
      index: index,
      rank: RANK[f.severity] || 0,
      hay: [f.check_id, f.title, f.severity, f.resource_id, f.locus, f.subscription_id, f.message]
        .join("\n").toLowerCase()
    };
  });

  var state = {
    severities: {},
    check: "",
    subscription: "",
    terms: [],
    sort: "severity",
    descending: true,
    page: 0,
    selected: -1,
    onlyProblems: false,
    clusterPage: 0
  };
  var visible = findings;

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function svgEl(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    if (text !== undefined) { node.textContent = String(text); }
    return node;
  }

  function clip(text, limit) {
    text = String(text || "");
    return text.length > limit ? text.slice(0, limit - 1) + "…" : text;
  }

  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  // Check docs use `code` spans; show them as <code> without interpreting anything else.
  function richText(parent, text) {
    String(text || "").split("`").forEach(function (part, i) {
      parent.appendChild(i % 2 ? el("code", "", part) : document.createTextNode(part));
    });
    return parent;
  }

  // --- findings table ----------------------------------------------------------------------

  var SORTS = {
    severity: function (a, b) { return a.rank - b.rank || b.index - a.index; },
    check: function (a, b) { return cmp(a.f.check_id, b.f.check_id) || a.index - b.index; },
    resource: function (a, b) { return cmp(a.f.short.toLowerCase(), b.f.short.toLowerCase()) || a.index - b.index; },
    subscription: function (a, b) { return cmp(a.f.subscription_id, b.f.subscription_id) || a.index - b.index; },
    message: function (a, b) { return cmp(a.f.message.toLowerCase(), b.f.message.toLowerCase()) || a.index - b.index; }
  };

  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  function matches(item) {
    var f = item.f;
    if (!state.severities[f.severity]) { return false; }
    if (f.suppression && !state.suppressed) { return false; }
    if (state.check && f.check_id !== state.check) { return false; }
    if (state.subscription && f.subscription_id !== state.subscription) { return false; }
    for (var i = 0; i < state.terms.length; i++) {
      if (item.hay.indexOf(state.terms[i]) < 0) { return false; }
    }
    return true;
  }

  function applyFilters() {
    var order = SORTS[state.sort];
    visible = findings.filter(matches);
    visible.sort(state.descending ? function (a, b) { return order(b, a); } : order);
    var pages = Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    renderRows();
  }

  function renderRows() {
    var start = state.page * PAGE_SIZE;
    var slice = visible.slice(start, start + PAGE_SIZE);
    var fragment = document.createDocumentFragment();
    slice.forEach(function (item) {
      var f = item.f;
      var row = el("tr");
      row.tabIndex = 0;
      row.dataset.index = String(item.index);
      row.dataset.severity = f.severity;
      row.dataset.check = f.check_id;
      if (item.index === state.selected) { row.className = "selected"; row.setAttribute("aria-selected", "true"); }
      var sev = el("td");
      sev.appendChild(el("span", "pill sev-" + f.severity, f.severity));
      row.appendChild(sev);
      var check = el("td", "check", f.check_id);
      if (f.suppression) { check.appendChild(el("span", "tag tag-suppressed", "suppressed")); }
      if (f.baseline_state && f.baseline_state !== "unchanged") { check.appendChild(el("span", "tag", f.baseline_state)); }
      row.appendChild(check);
      var resource = el("td", "resource");
      resource.appendChild(el("span", "name", f.short));
      resource.title = f.resource_id;
      if (f.locus) { resource.appendChild(el("span", "locus", f.locus)); }
      row.appendChild(resource);
      var sub = el("td", "sub", clip(f.subscription_id, 13));
      sub.title = f.subscription_id;
      row.appendChild(sub);
      row.appendChild(el("td", "message", f.message));
      fragment.appendChild(row);
    });
    $("rows").replaceChildren(fragment);
    var total = findings.length;
    $("count").textContent = visible.length === total
      ? fmt(total) + " finding" + (total === 1 ? "" : "s")
      : fmt(visible.length) + " of " + fmt(total) + " findings match";
    $("empty").hidden = visible.length > 0;
    var pages = Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
    $("page").textContent = visible.length
      ? fmt(start + 1) + "–" + fmt(start + slice.length) + " of " + fmt(visible.length) + " (page " + (state.page + 1) + " of " + pages + ")"
      : "";
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    $("pager").hidden = pages < 2;
  }

  function readFilters() {
    state.severities = {};
    document.querySelectorAll("input[name=severity]").forEach(function (box) {
      state.severities[box.value] = box.checked;
    });
    state.check = $("filter-check").value;
    state.suppressed = $("filter-suppressed").checked;
    state.subscription = $("filter-subscription").value;
    state.terms = $("filter-search").value.toLowerCase().split(/\s+/).filter(Boolean);
    state.page = 0;
  }

  function onFilterChange() {
    readFilters();
    applyFilters();
    renderClusters();
  }

  var searchTimer = 0;
  function onSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(onFilterChange, 120);
  }

  function onSort(event) {
    var button = event.target.closest("button[data-sort]");
    if (!button) { return; }
    var key = button.dataset.sort;
    state.descending = state.sort === key ? !state.descending : key === "severity";
    state.sort = key;
    document.querySelectorAll("#findings-table th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    button.parentNode.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
    state.page = 0;
    applyFilters();
  }

  // --- detail view -------------------------------------------------------------------------

  function evidenceValue(value) {
    if (value === null || value === undefined || value === "") { return el("span", "muted", "—"); }
    if (typeof value !== "object") { return el("span", "value", value); }
    if (Array.isArray(value) && value.every(function (v) { return typeof v !== "object"; })) {
      if (!value.length) { return el("span", "muted", "none"); }
      var list = el("ul", "values");
      value.forEach(function (v) { list.appendChild(el("li", "", v)); });
      return list;
    }
    return el("pre", "json", JSON.stringify(value, null, 2));
  }

  function valueText(value) {
    if (value === null || value === undefined || value === "") { return "(none)"; }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // Who changed what the finding points at, and when (Resource Graph change records).
  function changeHistory(parent, history) {
    if (!history || typeof history !== "object") { return; }
    parent.appendChild(el("h4", "", "Who changed it"));
    if (!history.available) {
      parent.appendChild(el("p", "muted history-unavailable", "Change history unavailable: " + (history.reason || "unknown")));
      return;
    }
    var changes = Array.isArray(history.changes) ? history.changes : [];
    if (!changes.length) {
      parent.appendChild(el("p", "muted", "No changes recorded in the last " + (history.window_days || 14) + " days."));
      return;
    }
    var list = el("ol", "changes");
    changes.forEach(function (change) {
      var item = el("li", "change");
      var who = change.changed_by ? "by " + change.changed_by : "by an unrecorded actor";
      var how = [change.client_type, change.operation].filter(Boolean).join(", ");
      var head = el("p", "change-head");
      head.appendChild(el("time", "", change.timestamp));
      head.appendChild(document.createTextNode(" · " + (change.change_type || "Change") + " " + who + (how ? " (" + how + ")" : "")));
      item.appendChild(head);
      item.appendChild(el("p", "id muted", change.resource_id));
      var props = Array.isArray(change.properties) ? change.properties : [];
      if (props.length) {
        var paths = el("ul", "values");
        props.forEach(function (p) {
          paths.appendChild(el("li", "", p.path + ": " + valueText(p.previous_value) + " → " + valueText(p.new_value)));
        });
        item.appendChild(paths);
      }
      list.appendChild(item);
    });
    parent.appendChild(list);
    if (history.more) { parent.appendChild(el("p", "muted", history.more + " older change(s) not shown.")); }
    if (history.partial) { parent.appendChild(el("p", "muted", "Incomplete: " + history.partial)); }
  }

  function section(parent, heading, text) {
    if (!text) { return; }
    parent.appendChild(el("h4", "", heading));
    parent.appendChild(richText(el("p"), text));
  }

  // The paths whose diagram shows this finding on one of its boxes (built once, on first use).
  var PATHS_OF = null;
  function pathsOf(index) {
    if (!PATHS_OF) {
      PATHS_OF = {};
      DATA.paths.forEach(function (path) {
        path.stages.forEach(function (stage) {
          stage.findings.forEach(function (i) {
            var list = PATHS_OF[i] || (PATHS_OF[i] = []);
            if (list[list.length - 1] !== path) { list.push(path); }
          });
        });
      });
    }
    return PATHS_OF[index] || [];
  }

  // The fix for this finding, as the remediation script writes it.
  function fixSection(parent, f) {
    var fix = f.fix;
    if (!fix) { return; }
    var box = el("div", "fix");
    box.appendChild(el("h4", "", "Fix for this finding"));
    if (fix.summary) { box.appendChild(el("p", "fix-summary", fix.summary)); }
    var how = fix.automated ? "In the remediation script (aksaudit scan --remediation fix.sh), as " + fix.mode + ":"
      : "Not automated: the remediation script only says this (" + fix.mode + "):";
    box.appendChild(el("p", "muted", how));
    box.appendChild(el("pre", "fix-script", (Array.isArray(fix.script) ? fix.script : []).join("\n")));
    parent.appendChild(box);
  }

  function pathSection(parent, index) {
    var paths = pathsOf(index);
    if (!paths.length) { return; }
    parent.appendChild(el("h4", "", paths.length === 1 ? "Egress path" : "Egress paths (" + fmt(paths.length) + ")"));
    var row = el("div", "detail-paths");
    paths.slice(0, DETAIL_DIAGRAMS).forEach(function (path) {
      var wrap = el("div", "path detail-path");
      wrap.appendChild(el("p", "via", path.cluster + (path.subnet ? " via subnet " + path.subnet : "")));
      wrap.appendChild(diagram(path, true, index));
      row.appendChild(wrap);
    });
    parent.appendChild(row);
    if (paths.length > DETAIL_DIAGRAMS) {
      parent.appendChild(el("p", "muted", "… and " + fmt(paths.length - DETAIL_DIAGRAMS) + " more: " +
        paths.slice(DETAIL_DIAGRAMS).map(function (p) { return p.cluster; })
          .filter(function (n, i, all) { return all.indexOf(n) === i; }).join(", ")));
    }
  }

  function showDetail(index) {
    var f = DATA.findings[index];
    var panel = $("detail");
    if (!f) { return; }
    state.selected = index;
    var doc = DATA.checks[f.check_id] || {};
    var body = document.createDocumentFragment();
    var close = el("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close details");
    close.addEventListener("click", hideDetail);
    body.appendChild(close);
    var title = el("h3");
    title.appendChild(el("span", "pill sev-" + f.severity, f.severity));
    title.appendChild(document.createTextNode(" " + f.check_id + " · " + f.title));
    body.appendChild(title);
    body.appendChild(el("p", "message", f.message));
    if (f.suppression) {
      var note = el("p", "suppressed-note", "Suppressed: " + (f.suppression.reason || "accepted risk") +
        (f.suppression.expires ? " (until " + f.suppression.expires + ")" : "") +
        (f.suppression.source ? " — " + f.suppression.source : ""));
      body.appendChild(note);
    }
    fixSection(body, f);
    pathSection(body, index);
    var facts = el("dl", "facts");
    [["Resource", f.resource_id], ["Where", f.locus], ["Subscription", f.subscription_id],
     ["Since baseline", f.baseline_state], ["Fingerprint", f.fingerprint]].forEach(function (pair) {
      if (!pair[1]) { return; }
      facts.appendChild(el("dt", "", pair[0]));
      facts.appendChild(el("dd", "id", pair[1]));
    });
    body.appendChild(facts);
    var keys = Object.keys(f.evidence || {}).filter(function (key) { return key !== "change_history"; });
    if (keys.length) {
      var folded = el("details", "evidence-details");
      folded.appendChild(el("summary", "", "Evidence (" + keys.length + " fields, as the scan saw them)"));
      var evidence = el("dl", "evidence");
      keys.forEach(function (key) {
        evidence.appendChild(el("dt", "", key));
        var dd = el("dd");
        dd.appendChild(evidenceValue(f.evidence[key]));
        evidence.appendChild(dd);
      });
      folded.appendChild(evidence);
      body.appendChild(folded);
    }
    changeHistory(body, (f.evidence || {}).change_history);
    section(body, "What it checks", doc.what);
    section(body, "Why it matters", doc.why);
    section(body, "How to fix", doc.fix);
    var refs = (doc.references || []).filter(function (url) { return /^https?:\/\//i.test(url); });
    if (refs.length) {
      body.appendChild(el("h4", "", "References"));
      var list = el("ul", "refs");
      refs.forEach(function (url) {
        var link = el("a", "", url);
        link.href = url;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        var item = el("li");
        item.appendChild(link);
        list.appendChild(item);
      });
      body.appendChild(list);
    }
    body.appendChild(richText(el("p", "muted"), "Offline: `aksaudit checks explain " + f.check_id + "`"));
    panel.replaceChildren(body);
    panel.hidden = false;
    $("layout").classList.add("with-detail");
    renderRows();
  }

  function hideDetail() {
    state.selected = -1;
    $("detail").hidden = true;
    $("detail").replaceChildren();  // its diagrams would otherwise linger, hidden, in the page
    $("layout").classList.remove("with-detail");
    renderRows();
  }

  function onRowActivate(event) {
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") { return; }
    var row = event.target.closest("tr[data-index]");
    if (!row) { return; }
    event.preventDefault();
    showDetail(Number(row.dataset.index));
  }

  // --- egress path diagrams ----------------------------------------------------------------

  var BOX_W = 172, BOX_H = 66, GAP = 30, PAD = 4;
  var KIND = {
    cluster: "AKS cluster", subnet: "Subnet", "route-table": "Route table", "next-hop": "Next hop",
    firewall: "Firewall", rules: "Rules"
  };
  var STATE_TEXT = {
    ok: "in place", broken: "broken", missing: "missing", unknown: "unknown (data not readable)",
    unreached: "not reached"
  };

  // Left to right in the cluster list; top to bottom (`vertical`) in the narrow detail view,
  // where a row of six boxes would have to shrink below reading size.
  function diagram(path, vertical, focus) {
    var stages = path.stages;
    var VGAP = 22, FLAG_W = 110;
    var width = vertical ? PAD * 2 + BOX_W + FLAG_W : PAD * 2 + stages.length * BOX_W + (stages.length - 1) * GAP;
    var height = vertical ? PAD * 2 + stages.length * BOX_H + (stages.length - 1) * VGAP : BOX_H + 30;
    var svg = svgEl("svg", {
      viewBox: "0 0 " + width + " " + height, width: width, height: height,
      "class": "diagram" + (vertical ? " vertical" : ""), role: "group",
      "aria-label": "Egress path of " + path.cluster + (path.subnet ? " via subnet " + path.subnet : "")
    });
    stages.forEach(function (stage, i) {
      var x = vertical ? PAD : PAD + i * (BOX_W + GAP);
      var top = vertical ? PAD + i * (BOX_H + VGAP) : PAD;
      if (i > 0) {
        var arrowClass = "arrow st-" + stage.state;
        if (vertical) {
          var ax = PAD + BOX_W / 2;
          svg.appendChild(svgEl("line", { x1: ax, y1: top - VGAP + 2, x2: ax, y2: top - 8, "class": arrowClass }));
          svg.appendChild(svgEl("polygon", {
            points: (ax - 5) + "," + (top - 9) + " " + ax + "," + (top - 2) + " " + (ax + 5) + "," + (top - 9), "class": arrowClass
          }));
        } else {
          var y = PAD + BOX_H / 2;
          svg.appendChild(svgEl("line", { x1: x - GAP + 2, y1: y, x2: x - 8, y2: y, "class": arrowClass }));
          svg.appendChild(svgEl("polygon", {
            points: (x - 9) + "," + (y - 5) + " " + (x - 2) + "," + y + " " + (x - 9) + "," + (y + 5), "class": arrowClass
          }));
        }
      }
      var group = svgEl("g", {
        "class": "stage st-" + stage.state, "data-stage": stage.stage, "data-state": stage.state,
        transform: "translate(" + x + "," + top + ")"
      });
      var checks = stage.findings.map(function (i) { return DATA.findings[i].check_id; })
        .filter(function (id, i, all) { return all.indexOf(id) === i; });
      var kind = KIND[stage.stage] || stage.stage;
      group.appendChild(svgEl("title", {}, kind + ": " + stage.name + (stage.detail ? " (" + stage.detail + ")" : "") +
        " — " + STATE_TEXT[stage.state] + (checks.length ? ": " + checks.join(", ") : "") +
        (stage.id ? "\n" + stage.id : "")));
      group.appendChild(svgEl("rect", { width: BOX_W, height: BOX_H, rx: 8, ry: 8 }));
      group.appendChild(svgEl("text", { x: 10, y: 17, "class": "kind" }, kind.toUpperCase()));
      group.appendChild(svgEl("text", { x: 10, y: 37, "class": "name" }, clip(stage.name, 18)));
      group.appendChild(svgEl("text", { x: 10, y: 55, "class": "detail" }, clip(stage.detail, 28)));
      if (checks.length) {
        group.appendChild(vertical
          ? svgEl("text", { x: BOX_W + 8, y: BOX_H / 2 + 4, "class": "flag" }, "✗ " + clip(checks.join(", "), 14))
          : svgEl("text", { x: BOX_W / 2, y: BOX_H + 19, "class": "flag", "text-anchor": "middle" },
            "✗ " + clip(checks.join(", "), 26)));
        group.setAttribute("tabindex", "0");
        group.setAttribute("role", "button");
        var own = stage.findings.indexOf(focus) >= 0;
        group.dataset.finding = String(own ? focus : stage.findings[0]);
        if (own) { group.classList.add("focus"); }
      }
      svg.appendChild(group);
    });
    return svg;
  }

  function clusterGroups() {
    var groups = [], byId = {};
    DATA.paths.forEach(function (path) {
      var key = path.cluster_id.toLowerCase();
      if (!byId[key]) {
        byId[key] = { name: path.cluster, id: path.cluster_id, subscription: path.subscription_id, paths: [], problems: false };
        groups.push(byId[key]);
      }
      byId[key].paths.push(path);
      if (path.stages.some(function (s) { return s.state === "broken" || s.state === "missing" || s.state === "unknown"; })) {
        byId[key].problems = true;
      }
    });
    return groups;
  }
  var CLUSTERS = clusterGroups();

  function clusterCard(cluster, collapsed) {
    var card = el("article", "cluster" + (cluster.problems ? " has-problems" : "") + (collapsed ? " collapsed" : ""));
    card.dataset.cluster = cluster.name;
    var head = el("h3");
    head.appendChild(el("span", "", cluster.name));
    head.appendChild(el("span", "pill " + (cluster.problems ? "bad" : "good"), cluster.problems ? "egress not controlled" : "egress controlled"));
    card.appendChild(head);
    card.appendChild(el("p", "id", cluster.id));
    var paths = el("div", "paths");
    if (collapsed) {
      var toggle = el("button", "show-path", cluster.paths.length === 1 ? "Show egress path" : "Show " + cluster.paths.length + " egress paths");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.dataset.key = cluster.id.toLowerCase();
      card.appendChild(toggle);
      paths.hidden = true;
    } else {
      drawPaths(paths, cluster);
    }
    card.appendChild(paths);
    return card;
  }

  function drawPaths(parent, cluster) {
    cluster.paths.forEach(function (path) {
      var wrap = el("div", "path");
      if (path.subnet) { wrap.appendChild(el("p", "via", "via subnet " + path.subnet)); }
      wrap.appendChild(diagram(path));
      parent.appendChild(wrap);
    });
  }

  var BY_KEY = {};
  CLUSTERS.forEach(function (c) {
    BY_KEY[c.id.toLowerCase()] = c;
    c.hay = [c.name, c.id, c.subscription].join("\n").toLowerCase();
  });
  var COLLAPSED = CLUSTERS.length > COLLAPSE_AT;

  function renderClusters() {
    var terms = COLLAPSED ? $("cluster-search").value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var shown = CLUSTERS.filter(function (c) {
      return (!state.onlyProblems || c.problems) && (!state.subscription || c.subscription === state.subscription) &&
        terms.every(function (t) { return c.hay.indexOf(t) >= 0; });
    });
    var perPage = COLLAPSED ? LISTED_PER_PAGE : CLUSTERS_PER_PAGE;
    var pages = Math.max(1, Math.ceil(shown.length / perPage));
    state.clusterPage = Math.min(state.clusterPage, pages - 1);
    var start = state.clusterPage * perPage;
    var fragment = document.createDocumentFragment();
    shown.slice(start, start + perPage).forEach(function (cluster) { fragment.appendChild(clusterCard(cluster, COLLAPSED)); });
    if (!shown.length) { fragment.appendChild(el("p", "empty", CLUSTERS.length ? "No cluster matches." : "No AKS cluster in this scan.")); }
    $("clusters").replaceChildren(fragment);
    $("clusters").classList.toggle("list", COLLAPSED);
    $("cluster-page").textContent = shown.length ? "clusters " + fmt(start + 1) + "–" + fmt(Math.min(start + perPage, shown.length)) + " of " + fmt(shown.length) : "";
    $("cluster-prev").disabled = state.clusterPage === 0;
    $("cluster-next").disabled = state.clusterPage >= pages - 1;
    $("cluster-pager").hidden = pages < 2;
  }

  function onShowPath(event) {
    var button = event.target.closest("button.show-path");
    if (!button) { return false; }
    var parent = button.parentNode.querySelector(".paths");
    var open = button.getAttribute("aria-expanded") !== "true";
    if (open && !parent.firstChild) { drawPaths(parent, BY_KEY[button.dataset.key]); }
    parent.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "Hide egress path" + (parent.childNodes.length > 1 ? "s" : "") : button.textContent.replace(/^Hide/, "Show");
    return true;
  }

  function onOverviewLink(event) {
    var link = event.target.closest("a.to-check");
    if (!link) { return; }
    $("filter-check").value = link.dataset.check;
    onFilterChange();
  }

  function onDiagramActivate(event) {
    if (event.type === "click" && onShowPath(event)) { return; }
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") { return; }
    var group = event.target.closest("g[data-finding]");
    if (!group) { return; }
    event.preventDefault();
    showDetail(Number(group.dataset.finding));
    $("detail").focus();
  }

  // --- controls view ---------------------------------------------------------------------

  var BY_FINGERPRINT = Object.create(null);  // no inherited keys: fingerprints are scan data
  DATA.findings.forEach(function (f, index) {
    if (!(f.fingerprint in BY_FINGERPRINT)) { BY_FINGERPRINT[f.fingerprint] = index; }
  });

  // Show one finding's row and detail: filters set so that its row is listed, on its page.
  function showFinding(index) {
    var f = DATA.findings[index];
    $("filter-check").value = f.check_id;
    $("filter-subscription").value = "";
    $("filter-search").value = "";
    if (f.suppression) { $("filter-suppressed").checked = true; }
    document.querySelectorAll("input[name=severity]").forEach(function (box) {
      if (box.value === f.severity) { box.checked = true; }
    });
    readFilters();
    applyFilters();
    renderClusters();
    var position = -1;
    visible.some(function (item, i) { if (item.index === index) { position = i; } return position >= 0; });
    state.page = Math.max(0, Math.floor(position / PAGE_SIZE));
    showDetail(index);
    var row = document.querySelector("#rows tr[data-index='" + index + "']");
    if (row) {
      row.scrollIntoView({ block: "center" });
      row.focus({ preventScroll: true });
    }
  }

  function onControlsClick(event) {
    var link = event.target.closest("a.to-finding");
    if (link) {
      var index = BY_FINGERPRINT[link.dataset.fingerprint];
      if (index === undefined) { return; }
      event.preventDefault();
      showFinding(index);
      return;
    }
    var toggle = event.target.closest("button.control-toggle");
    if (toggle) {
      var detail = $(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      detail.hidden = !open;
      return;
    }
    var tab = event.target.closest("button[role=tab]");
    if (tab) { selectTab(tab); }
  }

  function selectTab(tab) {
    document.querySelectorAll("#controls button[role=tab]").forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !chosen;
    });
  }

  // Arrow keys move between the framework tabs, as in any tab list.
  function onTabKey(event) {
    var tab = event.target.closest("button[role=tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) { return; }
    var tabs = Array.prototype.slice.call(document.querySelectorAll("#controls button[role=tab]"));
    var next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    selectTab(next);
    next.focus();
    event.preventDefault();
  }

  // --- wiring ------------------------------------------------------------------------------

  document.querySelectorAll("input[name=severity]").forEach(function (box) { box.addEventListener("change", onFilterChange); });
  $("filter-check").addEventListener("change", onFilterChange);
  $("filter-suppressed").addEventListener("change", onFilterChange);
  $("filter-subscription").addEventListener("change", onFilterChange);
  $("filter-search").addEventListener("input", onSearch);
  document.querySelector("#findings-table thead").addEventListener("click", onSort);
  $("rows").addEventListener("click", onRowActivate);
  $("rows").addEventListener("keydown", onRowActivate);
  $("prev").addEventListener("click", function () { state.page -= 1; renderRows(); });
  $("next").addEventListener("click", function () { state.page += 1; renderRows(); });
  $("clusters").addEventListener("click", onDiagramActivate);
  $("clusters").addEventListener("keydown", onDiagramActivate);
  $("only-problems").addEventListener("change", function (event) {
    state.onlyProblems = event.target.checked;
    state.clusterPage = 0;
    renderClusters();
  });
  if (COLLAPSED) {
    $("cluster-search-label").hidden = false;
    $("cluster-note").hidden = false;
    $("cluster-note").textContent = fmt(CLUSTERS.length) + " clusters: listed here, each egress diagram drawn when asked for.";
    var clusterTimer = 0;
    $("cluster-search").addEventListener("input", function () {
      clearTimeout(clusterTimer);
      clusterTimer = setTimeout(function () { state.clusterPage = 0; renderClusters(); }, 120);
    });
  }
  var overview = $("overview-table");
  if (overview) { overview.addEventListener("click", onOverviewLink); }
  var controls = $("controls");
  if (controls) {
    controls.addEventListener("click", onControlsClick);
    controls.addEventListener("keydown", onTabKey);
  }
  $("detail").addEventListener("click", onDiagramActivate);
  $("cluster-prev").addEventListener("click", function () { state.clusterPage -= 1; renderClusters(); });
  $("cluster-next").addEventListener("click", function () { state.clusterPage += 1; renderClusters(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !$("detail").hidden) { hideDetail(); }
  });

  readFilters();
  applyFilters();
  renderClusters();
  document.documentElement.dataset.ready = "true";
})();
