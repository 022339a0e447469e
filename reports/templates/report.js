// aksaudit HTML report. Every value from the scan reaches the page through textContent or
// setAttribute, never as markup: resource and rule names are attacker-controlled.
(function () {
  "use strict";

  // Repeated long strings (ARM ids) are embedded once and referenced as NUL + table index.
  // References are resolved where a value is used, not while parsing: a JSON.parse reviver is
  // called for every value of a document of megabytes.
  var STRINGS = JSON.parse(document.getElementById("report-strings").textContent);
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  // What only an opened finding or a drawn diagram reads (each finding's evidence, fix and
  // fingerprint; each path's boxes) is packed in deflated groups (embedded.py): one group is
  // inflated, once, when one of its items is first needed.
  var PACKED = JSON.parse(document.getElementById("report-packed").textContent);

  function str(value) {
    return typeof value === "string" && value.charCodeAt(0) === 0 ? STRINGS[Number(value.slice(1))] : value;
  }

  // A copy with every reference resolved, at any depth.
  function resolved(value) {
    if (typeof value === "string") { return str(value); }
    if (!value || typeof value !== "object") { return value; }
    if (Array.isArray(value)) { return value.map(resolved); }
    var copy = {};
    Object.keys(value).forEach(function (key) { copy[key] = resolved(value[key]); });
    return copy;
  }

  // The top-level strings of each finding and path: what the table, filters and cluster list read.
  function resolveTop(item) {
    for (var key in item) {
      if (typeof item[key] === "string") { item[key] = str(item[key]); }
    }
    return item;
  }
  DATA.findings.forEach(function (f) {
    resolveTop(f);
    if (f.suppression) { f.suppression = resolved(f.suppression); }
  });
  DATA.paths.forEach(function (path, index) { resolveTop(path).index = index; });
  DATA.checks = resolved(DATA.checks);

  var RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var PAGE_SIZE = 100;
  var CLUSTERS_PER_PAGE = 10;
  var COLLAPSE_AT = 20; // more clusters than this: a searchable list, each diagram drawn on demand
  var LISTED_PER_PAGE = 50;
  var DETAIL_DIAGRAMS = 2; // paths drawn in a finding's detail view; the rest are counted
  var SVG = "http://www.w3.org/2000/svg";

  var INFLATED = {};
  function unpacked(kind, index) {
    var group = Math.floor(index / PACKED.group), key = kind + group;
    if (!INFLATED[key]) {
      var binary = atob(PACKED[kind][group]);
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
      INFLATED[key] = new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")))
        .text().then(JSON.parse);
    }
    return INFLATED[key].then(function (items) { return items[index % PACKED.group]; });
  }

  // A finding, complete with its packed keys.
  function detailOf(index) {
    var f = DATA.findings[index];
    return unpacked("findings", index).then(function (extra) {
      Object.keys(extra).forEach(function (key) { f[key] = extra[key]; });
      return f;
    });
  }

  // A path's boxes, from positional rows (see stage_fields) to named fields.
  function boxesOf(path) {
    return unpacked("paths", path.index).then(function (rows) {
      return rows.map(function (row) {
        var box = {};
        DATA.stage_fields.forEach(function (field, i) { box[field] = row[i]; });
        return box;
      });
    });
  }

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
        path.findings.forEach(function (i) { (PATHS_OF[i] || (PATHS_OF[i] = [])).push(path); });
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

  function pathSection(parent, index, drawn) {
    var paths = pathsOf(index);
    if (!paths.length) { return; }
    parent.appendChild(el("h4", "", paths.length === 1 ? "Egress path" : "Egress paths (" + fmt(paths.length) + ")"));
    var row = el("div", "detail-paths");
    drawn.forEach(function (boxes, i) {
      var path = paths[i];
      var wrap = el("div", "path detail-path");
      wrap.appendChild(el("p", "via", path.cluster + (path.subnet ? " via subnet " + path.subnet : "")));
      wrap.appendChild(diagram(path, boxes, true, index));
      row.appendChild(wrap);
    });
    parent.appendChild(row);
    if (paths.length > DETAIL_DIAGRAMS) {
      parent.appendChild(el("p", "muted", "… and " + fmt(paths.length - DETAIL_DIAGRAMS) + " more: " +
        paths.slice(DETAIL_DIAGRAMS).map(function (p) { return p.cluster; })
          .filter(function (n, i, all) { return all.indexOf(n) === i; }).join(", ")));
    }
  }

  // The row is marked at once; the panel is filled once the finding's packed group (and its
  // diagrams' boxes) are inflated, a few milliseconds, unless another finding was chosen
  // meanwhile. `aria-busy` is true in between.
  function showDetail(index, focus) {
    if (!DATA.findings[index]) { return; }
    state.selected = index;
    $("detail").setAttribute("aria-busy", "true");
    renderRows();
    Promise.all([detailOf(index), Promise.all(pathsOf(index).slice(0, DETAIL_DIAGRAMS).map(boxesOf))])
      .then(function (found) {
        if (state.selected === index) { fillDetail(index, found[0], found[1], focus); }
      });
  }

  function fillDetail(index, f, drawn, focus) {
    var panel = $("detail");
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
    pathSection(body, index, drawn);
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
    panel.setAttribute("aria-busy", "false");
    $("layout").classList.add("with-detail");
    if (focus) { panel.focus(); }
  }

  function hideDetail() {
    state.selected = -1;
    $("detail").setAttribute("aria-busy", "false");
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
  function diagram(path, stages, vertical, focus) {
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
      if (path.problems) {
        byId[key].problems = true;
      }
    });
    return groups;
  }
  var CLUSTERS = clusterGroups();

  function clusterCard(cluster, collapsed, drawing) {
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
      drawing.push(drawPaths(paths, cluster));
    }
    card.appendChild(paths);
    return card;
  }

  // Draws once the paths' boxes are inflated; `aria-busy` is true until then.
  function drawPaths(parent, cluster) {
    parent.setAttribute("aria-busy", "true");
    return Promise.all(cluster.paths.map(boxesOf)).then(function (drawn) {
      drawn.forEach(function (boxes, i) {
        var path = cluster.paths[i];
        var wrap = el("div", "path");
        if (path.subnet) { wrap.appendChild(el("p", "via", "via subnet " + path.subnet)); }
        wrap.appendChild(diagram(path, boxes));
        parent.appendChild(wrap);
      });
      parent.setAttribute("aria-busy", "false");
    });
  }

  var BY_KEY = {};
  CLUSTERS.forEach(function (c) {
    BY_KEY[c.id.toLowerCase()] = c;
    c.hay = [c.name, c.id, c.subscription].join("\n").toLowerCase();
  });
  var COLLAPSED = CLUSTERS.length > COLLAPSE_AT;

  // Resolves when the diagrams drawn upfront (a few clusters) are drawn.
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
    var fragment = document.createDocumentFragment(), drawing = [];
    shown.slice(start, start + perPage).forEach(function (cluster) { fragment.appendChild(clusterCard(cluster, COLLAPSED, drawing)); });
    if (!shown.length) { fragment.appendChild(el("p", "empty", CLUSTERS.length ? "No cluster matches." : "No AKS cluster in this scan.")); }
    $("clusters").replaceChildren(fragment);
    $("clusters").classList.toggle("list", COLLAPSED);
    $("cluster-page").textContent = shown.length ? "clusters " + fmt(start + 1) + "–" + fmt(Math.min(start + perPage, shown.length)) + " of " + fmt(shown.length) : "";
    $("cluster-prev").disabled = state.clusterPage === 0;
    $("cluster-next").disabled = state.clusterPage >= pages - 1;
    $("cluster-pager").hidden = pages < 2;
    return Promise.all(drawing);
  }

  function onShowPath(event) {
    var button = event.target.closest("button.show-path");
    if (!button) { return false; }
    var parent = button.parentNode.querySelector(".paths");
    var open = button.getAttribute("aria-expanded") !== "true";
    var cluster = BY_KEY[button.dataset.key];
    if (open && !parent.hasAttribute("aria-busy")) { drawPaths(parent, cluster); }
    parent.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "Hide egress path" + (cluster.paths.length > 1 ? "s" : "") : button.textContent.replace(/^Hide/, "Show");
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
    showDetail(Number(group.dataset.finding), true);
  }

  // --- controls view ---------------------------------------------------------------------

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
      var index = Number(link.dataset.index);  // the finding's position, written by the report
      if (!(index >= 0 && index < DATA.findings.length)) { return; }
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
  renderClusters().then(function () { document.documentElement.dataset.ready = "true"; });
})();
