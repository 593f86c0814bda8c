// flowbanana's node canvas: a Vue component served by NiceGUI (no third-party editor code).
//
// Drag, pan, zoom, hover, selection and the link being drawn stay here; Python receives coarse
// edits ("edit" events: a move on release, a link added or removed, a param changed after a
// pause) and answers with patches of the nodes that changed. Every node is drawn from the
// catalogue JSON (`flowbanana nodes --json`); nothing here knows a node type by name.
import { markRaw } from "vue";
import { annotations } from "flowbanana_annotations"; // groups, sticky notes and the canvas's menu

const NODE_WIDTH = 280;
const PARAM_DEBOUNCE_MS = 450;
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 2.5;
const CULL_MARGIN = 0.5; // nodes this far outside the view (in viewport sizes) stay drawn, so a short pan mounts nothing
const UNMEASURED_HEIGHT = 400; // a node never drawn yet counts this tall when deciding whether it is in view
const THUMB_MAX = 300; // a result thumbnail's height when there is room below its node
const THUMB_MIN = 64; // ... and when there is none
const RESULT_CHROME = 44; // what a first result adds to a node besides its picture (margins, the bar under it)
const ROOM_GAP = 12; // kept free between a grown node and the one below it

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isTyping(target) {
  const el = target || document.activeElement;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

function linkTarget(text) {
  const dot = text.lastIndexOf(".");
  return { node: text.slice(0, dot), output: text.slice(dot + 1) };
}

// ---- search: every word typed must be found in a node's title, keywords, id, category or description ----
function queryWords(query) {
  return query.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

// How well one typed word fits a text, lower is better: it starts a word (0), is inside one (1), or its letters come
// in order within a word of the same first letter ("img" in "image", 2); null when it does not fit.
function wordScore(text, word) {
  const words = text.toLowerCase().split(/[^a-z0-9]+/);
  if (words.some((w) => w.startsWith(word))) return 0;
  if (words.some((w) => w.includes(word))) return 1;
  const inOrder = (w) => { let i = 0; for (const c of w) if (c === word[i]) i++; return i === word.length; };
  return words.some((w) => w[0] === word[0] && inOrder(w)) ? 2 : null;
}

// A node type's (or saved workflow's) fit for the typed words, lower is better: a title match beats a keyword, an
// id, a category and a description; null when a word is found nowhere.
function searchScore(t, words) {
  const fields = [t.title, (t.keywords || []).join(" "), t.workflow || t.id, t.category, t.description || ""];
  let total = 0;
  for (const word of words) {
    let best = null;
    fields.forEach((text, rank) => {
      const s = wordScore(text, word);
      if (s !== null && (best === null || rank * 3 + s < best)) best = rank * 3 + s;
    });
    if (best === null) return null;
    total += best;
  }
  return total;
}

// Problems (or warnings) by the node they concern; a node's array stays the one in `previous` while its content is
// the same, so that only the nodes whose list changed re-render.
function byNode(list, previous) {
  const map = {};
  for (const p of list) if (p.node) (map[p.node] = map[p.node] || []).push(p);
  for (const [id, items] of Object.entries(map)) {
    if (previous && previous[id] && JSON.stringify(previous[id]) === JSON.stringify(items)) map[id] = previous[id];
  }
  return map;
}

// A model param: the table's names with their ids beneath, whatever id the node names (an alias, a retired id,
// one the table lacks), and "other id…" to type one.
const FbModelPicker = {
  inject: ["canvas"],
  props: ["value", "choices", "param"],
  emits: ["pick", "other", "toggle"],
  data() {
    return { open: false };
  },
  computed: {
    shown() {
      const info = this.canvas.modelInfo(this.value);
      const written = String(this.value ?? "");
      if (!info) return { name: written || "no model", id: "not in flowbanana's model table", warn: true };
      const id = info.id === written ? info.id : written + " \u2192 " + info.id;
      return { name: info.name, id: info.status === "live" ? id : id + " \u00b7 " + info.status, warn: info.status === "retired" };
    },
    options() {
      return this.choices.map((id) => ({ id, ...(this.canvas.catalogue.models[id] || { name: id, status: "live" }) }));
    },
  },
  unmounted() {
    this.close();
  },
  methods: {
    toggle() {
      if (this.open) return this.close();
      this.open = true;
      this.$emit("toggle", true);
      this.outside = (e) => { if (!this.$el.contains(e.target)) this.close(); };
      window.addEventListener("pointerdown", this.outside, true);
    },
    close() {
      if (this.outside) window.removeEventListener("pointerdown", this.outside, true);
      this.outside = null;
      if (this.open) this.$emit("toggle", false);
      this.open = false;
    },
    choose(id) {
      this.close();
      if (id !== this.value) this.$emit("pick", id);
    },
    other() {
      this.close();
      this.$emit("other");
    },
  },
  template: `
  <div class="fb-model" @pointerdown.stop @keydown.escape.stop="close">
    <button class="fb-input fb-model-btn" :class="{'fb-model-warn': shown.warn}" :data-param="param" :title="'model: ' + value"
            @click="toggle"><span class="fb-model-name">{{ shown.name }}</span><span class="fb-model-id">{{ shown.id }}</span></button>
    <div v-if="open" class="fb-model-list" @wheel.stop>
      <div v-for="o in options" :key="o.id" class="fb-model-item" :class="{'fb-active': o.id === value}" :data-model="o.id"
           @click="choose(o.id)">
        <span class="fb-model-name">{{ o.name }}<span v-if="o.status !== 'live'" class="fb-model-status">{{ o.status }}</span></span>
        <span class="fb-model-id">{{ o.id }}</span>
      </div>
      <div class="fb-model-item fb-model-other" data-model-other @click="other">other id…</div>
    </div>
  </div>`,
};

// One node's frame: its place, state and selection. Moving it re-renders only this (the body's props are
// unchanged), so dragging 200 nodes costs 200 small patches, not 200 node bodies.
const FbNode = {
  inject: ["canvas"],
  props: ["id", "node", "def", "status", "selected", "problems", "warnings", "showProblems", "drag", "room"],
  data() {
    return { raised: false }; // a popup of the body (the model picker) is open: above the other nodes
  },
  computed: {
    color() {
      return this.canvas.catalogue.categories[this.def.category] || "#555";
    },
    stateClass() {
      return this.status && this.status.state ? "fb-st-" + this.status.state : "";
    },
  },
  mounted() {
    this.canvas.observe(this.$el);
  },
  beforeUnmount() {
    this.canvas.unobserve(this.$el);
  },
  template: `
  <div class="fb-node" :class="[stateClass, {'fb-selected': selected, 'fb-has-problem': problems.length, 'fb-disabled': node.disabled, 'fb-collapsed': node.collapsed, 'fb-raised': raised}]"
       :style="{transform: 'translate(' + node.x + 'px,' + node.y + 'px)', '--cat': color, '--thumb-max': (room || ${THUMB_MAX}) + 'px'}"
       :data-node="id" @pointerdown="canvas.nodeDown($event, id)" @contextmenu.prevent.stop="canvas.openMenu($event, id)">
    <fb-node-body :id="id" :node="node" :def="def" :status="status" :problems="problems" :warnings="warnings"
                  :show-problems="showProblems" :drag="drag" @raise="raised = $event"></fb-node-body>
  </div>`,
};

// One node's head, ports, params and result. Reads only its own props, so a status for one node
// re-renders one node.
const FbNodeBody = {
  inject: ["canvas"],
  components: { FbModelPicker },
  props: ["id", "node", "def", "status", "problems", "warnings", "showProblems", "drag"],
  emits: ["raise"],
  data() {
    return { histIndex: 0, addingInput: false, typing: {}, OTHER: "\u0000other" };
  },
  computed: {
    inputs() {
      const declared = this.def.inputs.map((p) => ({ ...p, extra: false }));
      const names = new Set([...declared.map((p) => p.name), ...this.def.params.map((p) => p.name)]);
      const extras = [];
      if (this.def.extra_inputs) {
        // extra inputs: added by hand, linked, or named by a {field} in the node's text params
        const fields = [];
        for (const p of this.def.params) {
          const v = this.node.params[p.name] ?? p.default;
          if ((p.kind === "multiline" || p.kind === "text") && typeof v === "string") {
            for (const m of v.replace(/\{\{|\}\}/g, "").matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) fields.push(m[1]);
          }
        }
        for (const name of [...this.node.extra, ...Object.keys(this.node.inputs), ...fields]) {
          if (!names.has(name)) {
            names.add(name);
            extras.push({ name, type: this.def.extra_inputs, optional: true, list: false, extra: true });
          }
        }
      }
      return [...declared, ...extras];
    },
    history() {
      return (this.status && this.status.history) || [];
    },
    current() {
      return this.history[Math.min(this.histIndex, this.history.length - 1)];
    },
    // the result shown is from an earlier run: this one failed, was skipped, or has not finished; or it was made
    // before a change to the node's params or links, or to a node upstream (its stamp is not the node's digest now)
    stale() {
      const state = this.status && this.status.state;
      return ["failed", "skipped", "cancelled", "queued", "running"].includes(state) || this.outdated;
    },
    outdated() {
      const now = this.status && this.status.sig;
      return !!(now && this.current && this.current.sig && this.current.sig !== now);
    },
    // a text result worth showing: not just the node's own param echoed back (text.text)
    resultText() {
      const text = this.current && this.current.text;
      if (text == null || Object.values(this.node.params).some((v) => String(v) === text)) return null;
      return text;
    },
    problemText() {
      return this.problems.map((p) => p.message + (p.hint ? " " + p.hint : "")).join("\n");
    },
    // what the node warns about, without the "node 'x' (type), param 'y': " the node itself says; a retired model
    // id offers its successor instead of a hint
    warningList() {
      return this.warnings.map((w) => ({ text: w.message.replace(/^node '[^']*' \([^)]*\)(, param '[^']*')?: /, ""),
                                          hint: w.successor ? "" : w.hint, successor: w.successor }));
    },
  },
  watch: {
    "history.length"() {
      this.histIndex = 0;
    },
  },
  methods: {
    portClass(kind, name, type) {
      const classes = [];
      if (this.drag) {
        const ok =
          this.drag.node !== this.id &&
          (this.drag.from === "out"
            ? kind === "in" && this.canvas.compatible(this.drag.type, type)
            : kind === "out" && this.canvas.compatible(type, this.drag.type));
        classes.push(ok ? "fb-port-ok" : "fb-port-dim");
      }
      if (kind === "in" && this.problems.some((p) => p.port === name)) classes.push("fb-port-problem");
      if (kind === "in" && this.node.inputs[name]) classes.push("fb-port-linked");
      return classes;
    },
    portStyle(type) {
      const t = this.canvas.catalogue.port_types[type];
      return { "--port": t ? t.color : "#999" };
    },
    value(p) {
      return p.name in this.node.params ? this.node.params[p.name] : p.default;
    },
    linked(name) {
      return !!this.node.inputs[name];
    },
    setValue(p, raw, immediate) {
      let value = raw;
      if (p.kind === "int" || p.kind === "seed" || p.kind === "float") {
        value = raw === "" ? "" : Number(raw);
        if (p.kind !== "float" && raw !== "" && !Number.isInteger(value)) value = raw;
      }
      this.canvas.setParam(this.id, p.name, value, immediate);
    },
    randomSeed(p) {
      this.canvas.setParam(this.id, p.name, Math.floor(Math.random() * 2147483647), true);
    },
    inputKey(e) {
      if (e.key === "Enter" && e.target.value.trim()) {
        this.canvas.$emit("edit", { op: "add_input", node: this.id, name: e.target.value.trim() });
        this.addingInput = false;
      } else if (e.key === "Escape") this.addingInput = false;
    },
    renameKey(e) {
      if (e.key === "Enter") {
        this.canvas.$emit("edit", { op: "title", node: this.id, title: e.target.value });
        this.canvas.renaming = null;
      } else if (e.key === "Escape") this.canvas.renaming = null;
    },
    step(delta) {
      const n = this.history.length;
      this.histIndex = Math.max(0, Math.min(n - 1, this.histIndex + delta));
    },
  },
  template: `
    <div class="fb-head" @dblclick.stop="canvas.$emit('edit', {op: 'collapse', node: id, value: !node.collapsed})">
      <button class="fb-icon-btn fb-fold" :title="node.collapsed ? 'unfold' : 'fold to the header'" @pointerdown.stop
              @click.stop="canvas.$emit('edit', {op: 'collapse', node: id, value: !node.collapsed})">{{ node.collapsed ? '▸' : '▾' }}</button>
      <input v-if="canvas.renaming === id" class="fb-input fb-title-input" :value="node.title || def.title" data-rename
             @pointerdown.stop @dblclick.stop @keydown.stop="renameKey($event)" @blur="canvas.renaming = null"
             :ref="(el) => el && !el.dataset.focused && (el.dataset.focused = '1', el.focus(), el.select())">
      <span v-else class="fb-title" :title="def.description">{{ node.title || def.title }}</span>
      <span v-if="node.disabled" class="fb-chip">off</span>
      <span v-if="status && status.state === 'running'" class="fb-spinner" title="running"></span>
      <span v-if="status && status.state" class="fb-chip" :class="'fb-chip-' + status.state">{{ status.label || status.state }}</span>
      <span v-if="problems.length" class="fb-warn" :title="problemText">!</span>
      <span v-else-if="warnings.length && node.collapsed" class="fb-warn fb-warn-soft" :title="warningList.map((w) => w.text).join('\\n')">!</span>
      <button class="fb-icon-btn fb-menu-btn" title="Node actions" @pointerdown.stop @click.stop="canvas.openMenu($event, id)">⋮</button>
    </div>
    <div v-if="status && status.state === 'running' && status.progress != null" class="fb-progress"><div :style="{width: (status.progress * 100) + '%'}"></div></div>
    <div v-if="!node.collapsed" class="fb-body">
      <div v-for="(w, i) in warningList" :key="'w' + i" class="fb-warning" :data-warning="id">{{ w.text }}<div v-if="w.hint" class="fb-hint">{{ w.hint }}</div>
        <button v-if="w.successor" class="fb-update-btn" data-update-models @pointerdown.stop
                title="Set every retired model id in this workflow to its successor (saved to the file if nothing else is unsaved)"
                @click="canvas.updateModels(id)">Use {{ w.successor }}</button>
      </div>
      <div class="fb-ports" v-if="inputs.length || def.outputs.length">
        <div class="fb-col">
          <div v-for="p in inputs" :key="p.name" class="fb-row fb-in" :title="p.type + (p.list ? ' list' : '') + (p.description ? ': ' + p.description : '')">
            <span class="fb-port" :class="portClass('in', p.name, p.type)" :style="portStyle(p.type)"
                  :data-port="'in|' + p.name" :data-type="p.type" @pointerdown.stop="canvas.portDown($event, id, 'in', p.name, p.type)"></span>
            <span class="fb-port-name">{{ p.name }}<span v-if="!p.optional && !p.extra" class="fb-req">*</span></span>
          </div>
        </div>
        <div class="fb-col fb-col-out">
          <div v-for="o in def.outputs" :key="o.name" class="fb-row fb-out" :title="o.type + (o.list ? ' list' : '')">
            <span class="fb-port-name">{{ o.name }}</span>
            <span class="fb-port" :class="portClass('out', o.name, o.type)" :style="portStyle(o.type)"
                  :data-port="'out|' + o.name" :data-type="o.type" @pointerdown.stop="canvas.portDown($event, id, 'out', o.name, o.type)"></span>
          </div>
        </div>
      </div>
      <div v-for="p in def.params" :key="p.name" class="fb-param" :class="{'fb-param-wide': p.kind === 'multiline' || canvas.isModelParam(p)}"
           @contextmenu.prevent.stop="canvas.openMenu($event, id, p.name)">
        <span class="fb-port fb-port-param" :class="portClass('in', p.name, p.type)" :style="portStyle(p.type)"
              :data-port="'in|' + p.name" :data-type="p.type" :title="'link a ' + p.type + ' value into ' + p.name"
              @pointerdown.stop="canvas.portDown($event, id, 'in', p.name, p.type)"></span>
        <label class="fb-label" :title="p.name.replace(/_/g, ' ') + (p.description ? ': ' + p.description : '')">{{ p.name.replace(/_/g, ' ') }}</label>
        <span v-if="linked(p.name)" class="fb-linked">from link</span>
        <textarea v-else-if="p.kind === 'multiline'" class="fb-input fb-textarea" rows="3" :value="value(p)"
                  :data-param="p.name" spellcheck="false" @pointerdown.stop @wheel.stop
                  @input="setValue(p, $event.target.value)" @change="setValue(p, $event.target.value, true)"></textarea>
        <select v-else-if="p.kind === 'choice'" class="fb-input" :value="value(p)" :data-param="p.name"
                @pointerdown.stop @change="setValue(p, $event.target.value, true)">
          <option v-for="c in p.choices" :key="c" :value="c">{{ c }}</option>
        </select>
        <label v-else-if="p.kind === 'bool'" class="fb-toggle" @pointerdown.stop>
          <input type="checkbox" :checked="!!value(p)" :data-param="p.name" @change="setValue(p, $event.target.checked, true)">
          <span></span>
        </label>
        <span v-else-if="p.kind === 'seed'" class="fb-seed">
          <input class="fb-input" type="number" :value="value(p)" :data-param="p.name" min="0" step="1" @pointerdown.stop
                 @input="setValue(p, $event.target.value)" @change="setValue(p, $event.target.value, true)">
          <button class="fb-icon-btn" title="new random seed" @pointerdown.stop @click="randomSeed(p)">⚄</button>
        </span>
        <input v-else-if="p.kind === 'int' || p.kind === 'float'" class="fb-input" type="number" :value="value(p)"
               :data-param="p.name" :min="p.min" :max="p.max" :step="p.step || (p.kind === 'int' ? 1 : 'any')" @pointerdown.stop
               @input="setValue(p, $event.target.value)" @change="setValue(p, $event.target.value, true)">
        <span v-else-if="p.kind === 'color'" class="fb-color">
          <input type="color" :value="String(value(p)).slice(0, 7)" @pointerdown.stop @change="setValue(p, $event.target.value, true)">
          <input class="fb-input" :value="value(p)" :data-param="p.name" @pointerdown.stop @change="setValue(p, $event.target.value, true)">
        </span>
        <span v-else-if="p.kind === 'file'" class="fb-file">
          <input class="fb-input" :value="value(p)" :data-param="p.name" placeholder="file next to the workflow" @pointerdown.stop
                 @input="setValue(p, $event.target.value)" @change="setValue(p, $event.target.value, true)">
          <button class="fb-icon-btn" title="upload a file" @pointerdown.stop @click="canvas.pickFile(id, p)">⇪</button>
        </span>
        <span v-else-if="p.kind === 'mask'" class="fb-file">
          <input class="fb-input" :value="value(p)" :data-param="p.name" placeholder="not painted yet" @pointerdown.stop
                 @change="setValue(p, $event.target.value, true)">
          <button class="fb-icon-btn fb-paint-btn" title="paint the mask over the image" :data-paint="id" @pointerdown.stop
                  @click="canvas.paintMask(id)">✎ paint</button>
        </span>
        <!-- a text param with choices takes any value: a list of the known ones, and "other…" to type one -->
        <fb-model-picker v-else-if="canvas.isModelParam(p) && !typing[p.name]" :value="value(p)" :choices="p.choices"
                         :param="p.name" @pick="setValue(p, $event, true)" @other="typing[p.name] = true"
                         @toggle="$emit('raise', $event)"></fb-model-picker>
        <select v-else-if="p.choices && !typing[p.name] && p.choices.includes(value(p))" class="fb-input" :value="value(p)"
                :data-param="p.name" @pointerdown.stop
                @change="$event.target.value === OTHER ? (typing[p.name] = true) : setValue(p, $event.target.value, true)">
          <option v-for="c in p.choices" :key="c" :value="c">{{ c }}</option>
          <option :value="OTHER">other…</option>
        </select>
        <input v-else class="fb-input" :value="value(p)" :data-param="p.name" @pointerdown.stop
               :placeholder="p.choices ? 'any id, e.g. ' + p.choices[0] : ''"
               @input="setValue(p, $event.target.value)"
               @change="setValue(p, $event.target.value, true); typing[p.name] = false">
      </div>
      <template v-if="def.extra_inputs">
        <input v-if="addingInput" class="fb-input fb-new-input" placeholder="input name, then Enter" data-new-input
               @pointerdown.stop @keydown.stop="inputKey($event)" @blur="addingInput = false"
               :ref="(el) => el && el.focus()">
        <button v-else class="fb-add-input" @pointerdown.stop @click="addingInput = true">+ input</button>
      </template>
      <div v-if="current && (current.thumb || resultText != null)" class="fb-result" :class="{'fb-stale': stale}">
        <div v-if="current.images && current.images.length > 1 && !current.sweep" class="fb-thumb-grid" @pointerdown.stop>
          <img v-for="(im, i) in current.images.slice(0, 4)" :key="i" :src="im.thumb" draggable="false"
               title="open full size" @click="canvas.lightbox = im.full" @load="canvas.remeasure(id)">
        </div>
        <img v-else-if="current.thumb" :src="current.thumb" class="fb-thumb" draggable="false"
             :title="current.sweep ? 'open the grid: pick a cell to use its values' : 'open full size'" :data-thumb="id"
             @pointerdown.stop @click="current.sweep ? canvas.openGrid(id, histIndex) : (canvas.lightbox = current.full)"
             @load="canvas.remeasure(id)">
        <div v-if="resultText != null" class="fb-text-result" @pointerdown.stop @wheel.stop>{{ resultText }}</div>
        <div v-if="current.sources && current.sources.length" class="fb-sources" :data-sources="id" @pointerdown.stop>
          <span class="fb-muted">sources</span>
          <a v-for="s in current.sources.slice(0, 4)" :key="s.uri" :href="s.uri" :title="s.uri" target="_blank"
             rel="noopener noreferrer">{{ s.title }}</a>
          <span v-if="current.sources.length > 4" class="fb-muted" :title="current.sources.slice(4).map((s) => s.title).join('\\n')">+{{ current.sources.length - 4 }}</span>
        </div>
        <div class="fb-result-bar">
          <span v-if="current.count > 1" class="fb-muted">{{ current.count }} items</span>
          <span v-if="current.seconds != null" class="fb-muted">{{ current.seconds }}</span>
          <span v-if="outdated" class="fb-outdated" data-outdated title="Made before a change to this node or one it depends on: run to update it">outdated</span>
          <span class="fb-spacer"></span>
          <button v-if="current.sweep" class="fb-icon-btn" title="open the grid: pick a cell to use its values"
                  :data-grid="id" @pointerdown.stop @click="canvas.openGrid(id, histIndex)">▦</button>
          <button v-if="canvas.canCompare(id)" class="fb-icon-btn" title="compare with the input (before/after)" :data-compare="id"
                  @pointerdown.stop @click="canvas.compareNode(id, histIndex)">◧</button>
          <template v-if="history.length > 1">
            <button class="fb-icon-btn" title="older result" :disabled="histIndex >= history.length - 1" @pointerdown.stop @click="step(1)">‹</button>
            <span class="fb-muted">{{ histIndex + 1 }}/{{ history.length }}</span>
            <button class="fb-icon-btn" title="newer result" :disabled="histIndex === 0" @pointerdown.stop @click="step(-1)">›</button>
          </template>
        </div>
      </div>
      <div v-if="status && status.state === 'failed'" class="fb-error">{{ status.error }}<div v-if="status.hint" class="fb-hint">{{ status.hint }}</div></div>
      <div v-else-if="status && status.state === 'skipped' && status.error" class="fb-skip">{{ status.error }}</div>
      <div v-if="showProblems && problems.length" class="fb-error"><div v-for="(p, i) in problems" :key="i">{{ p.message }}<div v-if="p.hint" class="fb-hint">{{ p.hint }}</div></div></div>
    </div>`,
};

FbNode.components = { FbNodeBody };

// The links, one SVG in world coordinates; re-rendered while something moves.
const FbLinks = {
  inject: ["canvas"],
  props: ["nodes", "offsets", "selectedLink", "drag", "pending", "rect"],
  computed: {
    paths() {
      const out = [];
      const c = this.canvas;
      for (const [id, node] of Object.entries(this.nodes)) {
        for (const [port, links] of Object.entries(node.inputs)) {
          for (const text of links) {
            if (this.pending && this.pending.target === id && this.pending.port === port && this.pending.link === text) continue;
            const src = linkTarget(text);
            const a = c.portPoint(src.node, "out", src.output);
            const b = c.portPoint(id, "in", port);
            if (!a || !b || !this.crosses(a, b)) continue;
            const key = id + "|" + port + "|" + text;
            out.push({ key, d: c.curve(a, b), color: c.outputColor(src.node, src.output), target: id, port, link: text });
          }
        }
      }
      return out;
    },
  },
  methods: {
    // whether the curve from a to b (its control points included) can cross the drawn area
    crosses(a, b) {
      const r = this.rect;
      if (!r) return true;
      const dx = Math.max(40, Math.abs(b.x - a.x) * 0.5);
      return Math.max(a.x + dx, b.x) >= r.x0 && Math.min(a.x, b.x - dx) <= r.x1 &&
        Math.max(a.y, b.y) >= r.y0 && Math.min(a.y, b.y) <= r.y1;
    },
  },
  template: `
  <svg class="fb-links" width="1" height="1">
    <g v-for="p in paths" :key="p.key">
      <path class="fb-link-hit" :d="p.d" :data-link-to="p.target + '.' + p.port" @pointerdown.stop="canvas.selectLink($event, p)"></path>
      <path class="fb-link" :class="{'fb-link-selected': selectedLink && selectedLink.key === p.key}" :d="p.d" :stroke="p.color"></path>
    </g>
    <path v-if="drag && drag.d" class="fb-link fb-link-drag" :d="drag.d" :stroke="drag.color"></path>
  </svg>`,
};

export default {
  mixins: [annotations],
  components: { FbNode, FbLinks },
  props: {
    catalogue: Object,
    compat: Object,
  },
  provide() {
    return { canvas: this };
  },
  data() {
    return {
      nodes: {},
      problems: [],
      warnings: [],
      showProblems: false,
      statuses: {},
      offsets: {}, // node id -> {ports: {"in|name": [x, y]}, w, h, thumb} in world units
      view: { x: 0, y: 0, zoom: 1 },
      zoomLabel: 100,
      visibleIds: [], // the nodes drawn: those in or near the view (the others are culled)
      drawnRect: null, // the world area they cover, for the links
      rooms: {}, // node id -> the height its result picture may take without covering the node below
      selection: {},
      selectedLink: null,
      drag: null, // the link being drawn: {from, node, port, type, d, color}
      pending: null, // a link lifted off its input while dragging
      band: null,
      search: null,
      menu: null,
      lightbox: null,
      toast: null,
      paletteQuery: "",
      collapsed: {},
      pointerWorld: { x: 0, y: 0 },
      help: false,
      renaming: null, // the node whose title is being edited in place
      shortcuts: [
        ["Double-click", "add a node here"], ["Drag background", "pan"], ["Wheel", "zoom at the cursor"],
        ["Shift+drag", "select with a rubber band"], ["Shift+click", "add to the selection"], ["F", "fit the graph"],
        ["Delete", "delete the selection or link"], ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo"],
        ["Ctrl+C / Ctrl+V", "copy / paste (across tabs)"], ["Ctrl+D", "duplicate"], ["Ctrl+A", "select all"],
        ["Ctrl+S", "save"], ["Ctrl+Enter", "run"], ["Esc", "close menus"],
      ],
    };
  },
  computed: {
    types() {
      const map = {};
      for (const t of this.catalogue.nodes) map[t.id] = t;
      return map;
    },
    nodeIds() {
      return Object.keys(this.nodes);
    },
    // per node, and the same array as before when a node's problems did not change, so that
    // a patch re-renders only the nodes whose problems did
    problemsByNode() {
      return (this.lastProblems = byNode(this.problems, this.lastProblems));
    },
    warningsByNode() {
      return (this.lastWarnings = byNode(this.warnings, this.lastWarnings));
    },
    // the node types, then the saved workflows usable as nodes
    entries() {
      return [...this.catalogue.nodes, ...(this.catalogue.workflows || [])];
    },
    // by category; while searching, the best matches first (their category too)
    palette() {
      const words = queryWords(this.paletteQuery);
      const groups = {}, best = {};
      for (const t of this.entries) {
        const score = words.length ? searchScore(t, words) : 0;
        if (score === null) continue;
        (groups[t.category] = groups[t.category] || []).push([score, t]);
        best[t.category] = Math.min(best[t.category] ?? Infinity, score);
      }
      return Object.keys(groups).sort((a, b) => best[a] - best[b] || a.localeCompare(b)).map((c) => ({
        category: c, color: this.catalogue.categories[c],
        types: groups[c].sort((a, b) => a[0] - b[0]).map((x) => x[1]),
      }));
    },
    searchResults() {
      if (!this.search) return [];
      const words = queryWords(this.search.query);
      const f = this.search.filter;
      const scored = [];
      for (const t of this.entries) {
        const fit = this.fitScore(t, f);
        const match = words.length ? searchScore(t, words) : 0;
        if (fit && match !== null) scored.push([match, fit, t]);
      }
      scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]);  // what was typed first, then how it takes the link
      return scored.slice(0, 40).map((x) => x[2]);
    },
  },
  watch: {
    view() {
      this.applyView();
    },
  },
  created() {
    this.noProblems = Object.freeze([]);
    this.measureQueue = markRaw(new Set());
    this.paramTimers = markRaw({});
    this.pendingParams = markRaw({});
    this.typeOffsets = markRaw({}); // node type -> the offsets of one measured node of it: a guess for the others
    this.cullRect = null;
  },
  mounted() {
    this.resizeObserver = markRaw(new ResizeObserver((entries) => {
      for (const e of entries) if (e.target.dataset.node) this.measureQueue.add(e.target.dataset.node);
      this.scheduleMeasure();
    }));
    this.onKey = (e) => this.keydown(e);
    this.onCopy = (e) => this.copy(e);
    this.onPaste = (e) => this.paste(e);
    window.addEventListener("keydown", this.onKey);
    document.addEventListener("copy", this.onCopy);
    document.addEventListener("paste", this.onPaste);
    window.flowbananaCanvas = this; // for tests and benchmarks
    this.applyView();
    this.$emit("ready");
  },
  unmounted() {
    window.removeEventListener("keydown", this.onKey);
    document.removeEventListener("copy", this.onCopy);
    document.removeEventListener("paste", this.onPaste);
    this.resizeObserver.disconnect();
  },
  methods: {
    // ---- called from Python -------------------------------------------------------------
    load(state) {
      this.nodes = state.nodes;
      this.problems = state.problems;
      this.warnings = state.warnings || [];
      this.statuses = {};
      this.selection = {};
      this.selectedLink = null;
      this.offsets = {};
      this.rooms = {};
      this.showProblems = false;
      this.loadAnnotations(state);
      const vp = state.viewport;
      if (vp && vp.zoom) this.view = { x: vp.x, y: vp.y, zoom: vp.zoom };
      else this.fitView(0.75); // a first look must be readable: rather pan to the rest than squint
      this.cull(true);
      this.$nextTick(() => this.drawMinimap());
    },
    patch(p) {
      for (const [id, node] of Object.entries(p.nodes)) {
        if (node === null) {
          delete this.nodes[id];
          delete this.selection[id];
          delete this.offsets[id];
          continue;
        }
        for (const key of Object.keys(this.pendingParams)) {
          const [nid, name] = key.split("|");
          if (nid === id) node.params[name] = this.pendingParams[key];
        }
        if (this.moving && this.moving.start[id]) Object.assign(node, { x: this.nodes[id].x, y: this.nodes[id].y });
        this.nodes[id] = node;
        this.measureQueue.add(id);
      }
      this.problems = p.problems;
      this.warnings = p.warnings || [];
      this.patchAnnotations(p);
      if (this.showProblems && !p.problems.some((x) => x.node)) this.showProblems = false;
      if (p.select) this.selection = Object.fromEntries(p.select.map((id) => [id, true]));
      this.cull(true);
      this.$nextTick(() => this.scheduleMeasure());
      this.drawMinimapSoon();
    },
    setStatuses(map) {
      for (const [id, status] of Object.entries(map)) {
        if (status === null) delete this.statuses[id];
        else this.statuses[id] = { ...(this.statuses[id] || {}), ...status };
      }
    },
    clearStatuses() {
      for (const id of Object.keys(this.statuses)) {
        const { history, sig } = this.statuses[id];
        this.statuses[id] = history && history.length ? { history, sig } : { sig };
      }
    },
    selectOnly(id) {
      if (this.nodes[id]) this.selection = { [id]: true };
    },
    revealProblems() {
      this.showProblems = true;
      const first = this.problems.find((p) => p.node && this.nodes[p.node]);
      if (first) this.centerOn(first.node);
    },

    // ---- models (the provider's table, sent with the catalogue) ------------------------------
    // a param whose offered values are all ids of the model table
    isModelParam(p) {
      const models = this.catalogue.models;
      return !!models && !!p.choices && p.choices.length > 0 && p.choices.every((c) => models[c]);
    },
    // the table's entry for what a node names: an id or an alias; null for an id the table lacks
    modelInfo(value) {
      const models = this.catalogue.models || {};
      const written = String(value ?? "").trim();
      const id = models[written] ? written : Object.keys(models).find((m) => models[m].aliases.includes(written));
      return id ? { id, ...models[id] } : null;
    },
    updateModels(id) {
      this.flushParams();
      this.$emit("command", { cmd: "update_models", node: id });
    },

    // ---- geometry -----------------------------------------------------------------------
    compatible(source, target) {
      return (this.compat[source] || []).includes(target);
    },
    // 0: does not fit the dragged link; else a rank, lower first: a declared input of the type, then
    // extra inputs, then a multiline param (a prompt), then any other param of the type
    fitScore(t, f) {
      if (!f) return 1;
      if (f.from === "in") return t.outputs.some((o) => this.compatible(o.type, f.type)) ? 1 : 0;
      const fits = (type) => type !== "ANY" && this.compatible(f.type, type);
      if (t.inputs.some((p) => fits(p.type))) return 1;
      if (t.extra_inputs && fits(t.extra_inputs)) return 2;
      if (t.params.some((p) => p.kind === "multiline" && fits(p.type))) return 3;
      if (t.params.some((p) => fits(p.type)) || t.inputs.some((p) => this.compatible(f.type, p.type))) return 4;
      return 0;
    },
    toWorld(clientX, clientY) {
      const r = this.$refs.viewport.getBoundingClientRect();
      return { x: (clientX - r.left - this.view.x) / this.view.zoom, y: (clientY - r.top - this.view.y) / this.view.zoom };
    },
    portPoint(id, kind, port) {
      const node = this.nodes[id];
      // a node never drawn (culled): placed like a drawn node of its type, until it is drawn and measured
      const off = node && (this.offsets[id] || this.typeOffsets[node.type]);
      if (!node || !off) return null;
      const p = off.ports[kind + "|" + port];
      if (p) return { x: node.x + p[0], y: node.y + p[1] };
      // an undeclared port (an unknown type, say): the node's edge, near the top
      return { x: node.x + (kind === "out" ? off.w : 0), y: node.y + 18 };
    },
    curve(a, b) {
      const dx = Math.max(40, Math.abs(b.x - a.x) * 0.5);
      return `M${a.x},${a.y} C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
    },
    outputColor(id, output) {
      const node = this.nodes[id];
      const def = this.defOf(node);
      const o = def && def.outputs.find((x) => x.name === output);
      const t = o && this.catalogue.port_types[o.type];
      return t ? t.color : "#9e9e9e";
    },
    // a node drawn (mounted) or culled (unmounted): measured while drawn, its last measure kept after
    observe(el) {
      this.resizeObserver.observe(el);
      this.measureQueue.add(el.dataset.node);
      this.scheduleMeasure();
    },
    unobserve(el) {
      this.resizeObserver.unobserve(el);
    },
    remeasure(id) {
      this.measureQueue.add(id);
      this.scheduleMeasure();
    },
    scheduleMeasure() {
      if (this.measureFrame || !this.measureQueue.size) return;
      this.measureFrame = requestAnimationFrame(() => {
        this.measureFrame = null;
        this.measure([...this.measureQueue]);
        this.measureQueue.clear();
      });
    },
    measureAll() {
      this.measure(Object.keys(this.nodes));
    },
    // Port positions relative to their node, read in one pass so the browser lays out once.
    measure(ids) {
      const world = this.$refs.world;
      if (!world) return;
      const zoom = this.view.zoom;
      const found = {};
      for (const id of ids) {
        const el = world.querySelector(`.fb-node[data-node="${CSS.escape(id)}"]`);
        if (!el) continue;
        const base = el.getBoundingClientRect();
        const ports = {};
        for (const port of el.querySelectorAll("[data-port]")) {
          const r = port.getBoundingClientRect();
          ports[port.dataset.port] = [(r.left + r.width / 2 - base.left) / zoom, (r.top + r.height / 2 - base.top) / zoom];
        }
        const picture = el.querySelector(".fb-thumb, .fb-thumb-grid");
        found[id] = { ports, w: el.offsetWidth, h: el.offsetHeight, thumb: picture ? picture.offsetHeight : 0 };
      }
      for (const [id, value] of Object.entries(found)) {
        this.offsets[id] = value;
        const node = this.nodes[id];
        if (node && !node.collapsed && !this.typeOffsets[node.type]) this.typeOffsets[node.type] = value;
      }
      if (ids.length) {
        this.cull(true); // a node that grew may reach into the view
        this.fitRooms();
      }
      this.drawMinimapSoon();
    },
    // ---- culling: only the nodes in or near the view are in the page ----------------------
    applyView() {
      const { x, y, zoom } = this.view;
      const world = this.$refs.world, viewport = this.$refs.viewport;
      if (!world || !viewport) return;
      world.style.transform = `translate(${x}px, ${y}px) scale(${zoom})`;
      const size = 24 * zoom;
      viewport.style.backgroundSize = `${size}px ${size}px`;
      viewport.style.backgroundPosition = `${x}px ${y}px`;
      this.zoomLabel = Math.round(zoom * 100);
      this.cull(false);
    },
    // Which nodes to draw: those within a margin around the view. Cheap while the view stays inside the area
    // drawn last time (a pan of up to half a screen mounts nothing); `force` after nodes moved, came or went.
    cull(force) {
      const viewport = this.$refs.viewport;
      if (!viewport || !viewport.clientWidth) return;
      const { x, y, zoom } = this.view;
      const x0 = -x / zoom, y0 = -y / zoom, x1 = x0 + viewport.clientWidth / zoom, y1 = y0 + viewport.clientHeight / zoom;
      const c = this.cullRect;
      if (!force && c && x0 >= c.x0 && y0 >= c.y0 && x1 <= c.x1 && y1 <= c.y1 &&
          (c.x1 - c.x0) < 4 * (x1 - x0)) return; // still inside, and not zoomed in far (then fewer nodes will do)
      const mx = (x1 - x0) * CULL_MARGIN, my = (y1 - y0) * CULL_MARGIN;
      const r = { x0: x0 - mx, y0: y0 - my, x1: x1 + mx, y1: y1 + my };
      const ids = [];
      for (const [id, n] of Object.entries(this.nodes)) {
        const o = this.offsets[id];
        const w = o ? o.w : NODE_WIDTH, h = o ? o.h : UNMEASURED_HEIGHT;
        if ((n.x < r.x1 && n.x + w > r.x0 && n.y < r.y1 && n.y + h > r.y0) || id === this.renaming) ids.push(id);
      }
      this.cullRect = r;
      if (!c || r.x0 !== c.x0 || r.y0 !== c.y0 || r.x1 !== c.x1 || r.y1 !== c.y1) this.drawnRect = r;
      if (!sameList(ids, this.visibleIds)) {
        this.visibleIds = ids;
        this.$nextTick(() => this.fitRooms());
      }
    },
    // A result picture takes at most the room down to the next node below (THUMB_MIN at least), so a node
    // that grows with its result does not cover its neighbour.
    fitRooms() {
      const all = Object.entries(this.nodes);
      for (const id of this.visibleIds) {
        const n = this.nodes[id], o = this.offsets[id];
        if (!n || !o) continue;
        let limit = Infinity;
        for (const [other, m] of all) {
          if (other === id || m.y <= n.y) continue;
          const mw = (this.offsets[other] || { w: NODE_WIDTH }).w;
          if (m.x < n.x + o.w && m.x + mw > n.x) limit = Math.min(limit, m.y - n.y - ROOM_GAP);
        }
        const rest = o.h - o.thumb + (o.thumb ? 0 : RESULT_CHROME); // the node without its picture
        const room = Math.round(Math.max(THUMB_MIN, Math.min(THUMB_MAX, limit - rest)));
        if (this.rooms[id] !== room) this.rooms[id] = room;
      }
    },
    bounds(ids) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const id of ids) {
        const n = this.nodes[id];
        if (!n) continue;
        const o = this.offsets[id] || { w: NODE_WIDTH, h: 120 };
        x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y);
        x1 = Math.max(x1, n.x + o.w); y1 = Math.max(y1, n.y + o.h);
      }
      return x0 === Infinity ? null : { x0, y0, x1, y1 };
    },
    // the whole graph in view, centred; with `minZoom`, no smaller than that, the top left in view instead
    fitView(minZoom = MIN_ZOOM) {
      const b = this.withAnnotations(this.bounds(this.nodeIds));
      const r = this.$refs.viewport.getBoundingClientRect();
      if (!b || !r.width) {
        this.view = { x: 80, y: 60, zoom: 1 };
        return;
      }
      const pad = 60;
      const fit = Math.min(1, (r.width - 2 * pad) / (b.x1 - b.x0), (r.height - 2 * pad) / (b.y1 - b.y0));
      const zoom = Math.max(minZoom, fit);
      const place = (size, lo, hi) => ((hi - lo) * zoom > size - 2 * pad ? pad : (size - (hi - lo) * zoom) / 2) - lo * zoom;
      const x = place(r.width, b.x0, b.x1);
      const y = place(r.height, b.y0, b.y1);
      this.view = { zoom, x, y };
      this.viewChanged();
    },
    centerOn(id) {
      const n = this.nodes[id];
      const r = this.$refs.viewport.getBoundingClientRect();
      if (!n) return;
      this.view = { ...this.view, x: r.width / 2 - (n.x + NODE_WIDTH / 2) * this.view.zoom, y: r.height / 3 - n.y * this.view.zoom };
      this.viewChanged();
    },
    zoomBy(factor, clientX, clientY) {
      const r = this.$refs.viewport.getBoundingClientRect();
      const cx = clientX === undefined ? r.left + r.width / 2 : clientX;
      const cy = clientY === undefined ? r.top + r.height / 2 : clientY;
      const zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, this.view.zoom * factor));
      const wx = (cx - r.left - this.view.x) / this.view.zoom;
      const wy = (cy - r.top - this.view.y) / this.view.zoom;
      this.view = { zoom, x: cx - r.left - wx * zoom, y: cy - r.top - wy * zoom };
      this.viewChanged();
    },
    viewChanged() {
      this.drawMinimapSoon();
      clearTimeout(this.viewTimer);
      this.viewTimer = setTimeout(() => this.$emit("viewport", { ...this.view }), 600);
    },

    // ---- pointer interaction ------------------------------------------------------------
    wheel(e) {
      e.preventDefault();
      const factor = Math.exp(-Math.max(-60, Math.min(60, e.deltaY)) * (e.ctrlKey ? 0.01 : 0.0025));
      this.zoomBy(factor, e.clientX, e.clientY);
    },
    backgroundDown(e) {
      if (e.button !== 0 && e.button !== 1) return;
      this.closePopups();
      document.activeElement && document.activeElement.blur && document.activeElement.blur();
      const start = { x: e.clientX, y: e.clientY };
      if (e.button === 0 && (e.shiftKey || e.ctrlKey || e.metaKey)) {
        const r = this.$refs.viewport.getBoundingClientRect();
        this.band = { x0: start.x - r.left, y0: start.y - r.top, x1: start.x - r.left, y1: start.y - r.top, add: true };
        this.track(e, (ev) => {
          this.band.x1 = ev.clientX - r.left;
          this.band.y1 = ev.clientY - r.top;
        }, () => {
          this.selectBand();
          this.band = null;
        });
        return;
      }
      const origin = { ...this.view };
      let moved = false;
      this.track(e, (ev) => {
        moved = moved || Math.abs(ev.clientX - start.x) + Math.abs(ev.clientY - start.y) > 3;
        this.view = { ...origin, x: origin.x + ev.clientX - start.x, y: origin.y + ev.clientY - start.y };
        this.drawMinimapSoon();
      }, () => {
        if (moved) this.viewChanged();
        else {
          this.selection = {};
          this.selectedLink = null;
        }
      });
    },
    selectBand() {
      const b = this.band;
      const z = this.view.zoom;
      const x0 = (Math.min(b.x0, b.x1) - this.view.x) / z, x1 = (Math.max(b.x0, b.x1) - this.view.x) / z;
      const y0 = (Math.min(b.y0, b.y1) - this.view.y) / z, y1 = (Math.max(b.y0, b.y1) - this.view.y) / z;
      const selection = { ...this.selection };
      for (const [id, n] of Object.entries(this.nodes)) {
        const o = this.offsets[id] || { w: NODE_WIDTH, h: 100 };
        if (n.x < x1 && n.x + o.w > x0 && n.y < y1 && n.y + o.h > y0) selection[id] = true;
      }
      this.selection = selection;
    },
    track(e, move, up) {
      const el = e.currentTarget || this.$refs.viewport;
      let frame = null;
      let last = null;
      const onMove = (ev) => {
        last = ev;
        if (!frame) frame = requestAnimationFrame(() => { frame = null; move(last); });
      };
      const onUp = (ev) => {
        window.removeEventListener("pointermove", onMove);
        window.removeEventListener("pointerup", onUp);
        window.removeEventListener("pointercancel", onUp);
        if (frame) { cancelAnimationFrame(frame); move(last); }
        up(ev);
      };
      window.addEventListener("pointermove", onMove);
      window.addEventListener("pointerup", onUp);
      window.addEventListener("pointercancel", onUp);
    },
    nodeDown(e, id) {
      if (e.button !== 0) return;
      this.closePopups();
      this.selectedLink = null;
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        const selection = { ...this.selection };
        if (selection[id]) delete selection[id];
        else selection[id] = true;
        this.selection = selection;
        return;
      }
      if (!this.selection[id]) this.selection = { [id]: true };
      const startX = e.clientX, startY = e.clientY;
      const start = {};
      for (const sid of Object.keys(this.selection)) if (this.nodes[sid]) start[sid] = [this.nodes[sid].x, this.nodes[sid].y];
      this.moving = { start };
      let moved = false;
      this.track(e, (ev) => {
        const dx = (ev.clientX - startX) / this.view.zoom, dy = (ev.clientY - startY) / this.view.zoom;
        moved = moved || Math.abs(dx) + Math.abs(dy) > 2;
        for (const [sid, [x, y]] of Object.entries(start)) {
          const n = this.nodes[sid];
          n.x = Math.round(x + dx);
          n.y = Math.round(y + dy);
        }
        this.drawMinimapSoon();
      }, () => {
        this.moving = null;
        this.cull(true);
        if (moved) {
          const moves = {};
          for (const sid of Object.keys(start)) moves[sid] = [this.nodes[sid].x, this.nodes[sid].y];
          this.$emit("edit", { op: "move", moves });
        }
      });
    },
    portDown(e, id, kind, port, type) {
      if (e.button !== 0) return;
      this.closePopups();
      let from = { kind, node: id, port, type };
      const node = this.nodes[id];
      if (kind === "in" && node.inputs[port] && node.inputs[port].length) {
        // pick up the existing link: drop it elsewhere to move it, on empty space to delete it
        const links = node.inputs[port];
        const text = links[links.length - 1];
        const src = linkTarget(text);
        this.pending = { target: id, port, link: text };
        const srcType = this.outputType(src.node, src.output);
        from = { kind: "out", node: src.node, port: src.output, type: srcType };
      }
      const anchor = this.portPoint(from.node, from.kind, from.port);
      if (!anchor) return;
      const color = from.kind === "out" ? this.outputColor(from.node, from.port) : (this.catalogue.port_types[type] || {}).color;
      this.drag = { from: from.kind, node: from.node, port: from.port, type: from.type, color, d: null };
      this.track(e, (ev) => {
        const w = this.toWorld(ev.clientX, ev.clientY);
        this.drag.d = from.kind === "out" ? this.curve(anchor, w) : this.curve(w, anchor);
      }, (ev) => {
        const drag = this.drag;
        const pending = this.pending;
        this.drag = null;
        this.pending = null;
        this.dropLink(ev, drag, pending);
      });
    },
    outputType(id, output) {
      const node = this.nodes[id];
      const def = this.defOf(node);
      const o = def && def.outputs.find((x) => x.name === output);
      return o ? o.type : "ANY";
    },
    // a link dropped on a node's body goes to its first fitting port, an unlinked one if there is one
    portOnNode(nodeEl, drag) {
      const want = drag.from === "out" ? "in|" : "out|";
      const node = this.nodes[nodeEl.dataset.node];
      const fitting = [...nodeEl.querySelectorAll(`[data-port^="${want}"]`)].filter((el) =>
        drag.from === "out" ? this.compatible(drag.type, el.dataset.type) : this.compatible(el.dataset.type, drag.type));
      return fitting.find((el) => !node.inputs[el.dataset.port.slice(3)]) || fitting[0] || null;
    },
    dropLink(ev, drag, pending) {
      const el = document.elementFromPoint(ev.clientX, ev.clientY);
      const nodeEl = el && el.closest(".fb-node");
      let portEl = el && el.closest("[data-port]");
      if (!portEl && nodeEl && nodeEl.dataset.node !== drag.node) {
        portEl = this.portOnNode(nodeEl, drag);
        if (!portEl) {
          this.showToast(`Refused: nothing on this node fits a ${drag.type} link.`, ev);
          if (pending) this.$emit("edit", { op: "disconnect", target: pending.target, port: pending.port, link: pending.link });
          return;
        }
      }
      if (portEl && nodeEl) {
        const [kind, port] = portEl.dataset.port.split("|");
        const target = nodeEl.dataset.node;
        const type = portEl.dataset.type;
        if (pending && target === pending.target && port === pending.port) return; // dropped back where it was
        if (kind === drag.from || target === drag.node) {
          if (pending) this.$emit("edit", { op: "disconnect", target: pending.target, port: pending.port, link: pending.link });
          return;
        }
        const ok = drag.from === "out" ? this.compatible(drag.type, type) : this.compatible(type, drag.type);
        if (!ok) {
          const [outType, inType] = drag.from === "out" ? [drag.type, type] : [type, drag.type];
          this.showToast(`Refused: ${port} takes ${inType}, this link carries ${outType}.`, ev);
          return;
        }
        const link = drag.from === "out"
          ? { source: drag.node, output: drag.port, target, port }
          : { source: target, output: port, target: drag.node, port: drag.port };
        this.$emit("edit", { op: "connect", ...link, replace: pending || null });
        return;
      }
      if (pending) {
        this.$emit("edit", { op: "disconnect", target: pending.target, port: pending.port, link: pending.link });
        return;
      }
      if (!nodeEl) {
        // dropped on empty canvas: offer the nodes that fit, connected on pick
        this.openSearch(ev.clientX, ev.clientY, { from: drag.from, node: drag.node, port: drag.port, type: drag.type });
      }
    },
    selectLink(e, p) {
      this.closePopups();
      this.selection = {};
      this.selectedLink = p;
    },
    setParam(id, name, value, immediate) {
      const node = this.nodes[id];
      if (!node) return;
      node.params[name] = value;
      const key = id + "|" + name;
      this.pendingParams[key] = value;
      clearTimeout(this.paramTimers[key]);
      const send = () => {
        delete this.paramTimers[key];
        delete this.pendingParams[key];
        this.$emit("edit", { op: "param", node: id, name, value });
      };
      if (immediate) send();
      else this.paramTimers[key] = setTimeout(send, PARAM_DEBOUNCE_MS);
    },
    flushParams() {
      for (const key of Object.keys(this.paramTimers)) {
        clearTimeout(this.paramTimers[key]);
        const [id, name] = key.split("|");
        delete this.paramTimers[key];
        delete this.pendingParams[key];
        this.$emit("edit", { op: "param", node: id, name, value: this.nodes[id] ? this.nodes[id].params[name] : null });
      }
    },
    pickFile(id, param) {
      const input = document.createElement("input");
      input.type = "file";
      if (param.file_types) input.accept = param.file_types.map((t) => (t.startsWith(".") ? t : "." + t)).join(",");
      input.onchange = async () => {
        const file = input.files[0];
        if (!file) return;
        const url = `/flowbanana/upload?tab=${encodeURIComponent(this.uploadToken)}&node=${encodeURIComponent(id)}` +
          `&param=${encodeURIComponent(param.name)}&name=${encodeURIComponent(file.name)}`;
        const response = await fetch(url, { method: "POST", body: file });
        if (!response.ok) {
          const text = await response.text();
          let message = text;
          try { message = JSON.parse(text).detail || text; } catch (e) { /* plain text */ }
          this.showToast("Upload refused: " + message, null);
        }
      };
      input.click();
    },
    setUploadToken(token) {
      this.uploadToken = token;
    },

    // ---- masks, before/after, shared files (Python side: mask_editor.py, compare.py, sharing.py) ----
    // a painted mask of its own, or one fed into a MASK input by a node that has one (inpaint <- mask.paint)
    canPaint(id) {
      const node = this.nodes[id], def = this.defOf(node);
      if (!def) return false;
      if (def.params.some((p) => p.kind === "mask" && !node.inputs[p.name])) return true;
      return def.inputs.some((p) => p.type === "MASK" && (node.inputs[p.name] || []).some((text) => {
        const src = this.nodes[linkTarget(text).node], srcDef = this.defOf(src);
        return !!srcDef && srcDef.params.some((q) => q.kind === "mask");
      }));
    },
    // an image made from a linked image (an edit, an inpaint, a filter), both with results to show
    canCompare(id) {
      const node = this.nodes[id], def = this.defOf(node);
      const shown = (nid) => ((this.statuses[nid] || {}).history || []).some((h) => h.full);
      if (!def || def.output || !shown(id) || !def.outputs.some((o) => o.type === "IMAGE")) return false;
      return def.inputs.some((p) => p.type === "IMAGE" && (node.inputs[p.name] || []).some((text) => shown(linkTarget(text).node)));
    },
    paintMask(id) {
      this.flushParams();
      this.$emit("command", { cmd: "paint_mask", node: id });
    },
    compareNode(id, index) {
      this.$emit("command", { cmd: "compare", node: id, index: index || 0 });
    },
    // an image that carries its workflow, or a .zip bundle: sent by HTTP, opened by the server; a picture without a
    // workflow becomes a Load image node where it was dropped (`at`, world coordinates)
    async openShared(file, e, at) {
      const url = `/flowbanana/open?tab=${encodeURIComponent(this.uploadToken)}&name=${encodeURIComponent(file.name)}` +
        (at ? `&x=${Math.round(at.x)}&y=${Math.round(at.y)}` : "");
      const response = await fetch(url, { method: "POST", body: file });
      if (!response.ok) {
        const text = await response.text();
        let detail = text;
        try { detail = JSON.parse(text).detail || text; } catch (err) { /* plain text */ }
        this.showToast(`Cannot open ${file.name}: ${detail}`, e);
      }
    },

    // ---- palette, search, menus ---------------------------------------------------------
    paletteDragStart(e, t) {
      e.dataTransfer.setData("application/x-flowbanana-node", JSON.stringify({ type: t.id, workflow: t.workflow || null }));
      e.dataTransfer.effectAllowed = "copy";
    },
    paletteClick(t) {
      const r = this.$refs.viewport.getBoundingClientRect();
      const w = this.toWorld(r.left + r.width / 2, r.top + r.height / 3);
      this.$emit("edit", { op: "add", type: t.id, workflow: t.workflow || null, x: w.x - NODE_WIDTH / 2, y: w.y });
    },
    // a node's type: a subgraph node carries its own (its workflow's interface), the others are the catalogue's
    defOf(node) {
      return node ? node.def || this.types[node.type] : null;
    },
    dragOver(e) {
      if ([...e.dataTransfer.types].some((t) => t === "application/x-flowbanana-node" || t === "Files")) {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }
    },
    async drop(e) {
      e.preventDefault();
      const dragged = e.dataTransfer.getData("application/x-flowbanana-node");
      const w = this.toWorld(e.clientX, e.clientY);
      if (dragged) {
        this.$emit("edit", { op: "add", ...JSON.parse(dragged), x: w.x - 20, y: w.y - 16 });
        return;
      }
      const file = e.dataTransfer.files[0];
      const pictures = [...e.dataTransfer.files].filter((f) => /\.(png|jpe?g|webp|gif)$/i.test(f.name));
      if (file && /\.json$/i.test(file.name)) {
        this.$emit("command", { cmd: "open_text", name: file.name, text: await file.text() });
      } else if (pictures.length) {  // each its own Load image node, side by side (or the workflow one carries)
        pictures.forEach((f, i) => this.openShared(f, e, { x: w.x - 20 + i * (NODE_WIDTH + 40), y: w.y - 16 }));
      } else if (file && /\.zip$/i.test(file.name)) {
        this.openShared(file, e);
      } else if (file) {
        this.showToast("Drop a picture (it becomes a Load image node), a workflow .json or a .zip bundle.", e);
      }
    },
    backgroundDblClick(e) {
      if (e.target.closest(".fb-node")) return;
      this.openSearch(e.clientX, e.clientY, null);
    },
    openSearch(clientX, clientY, filter) {
      const r = this.$refs.viewport.getBoundingClientRect();
      const w = this.toWorld(clientX, clientY);
      this.search = { left: Math.min(clientX - r.left, r.width - 330), top: Math.min(clientY - r.top, r.height - 380),
                      wx: w.x, wy: w.y, query: "", index: 0, filter };
      this.$nextTick(() => this.$refs.searchInput && this.$refs.searchInput.focus());
    },
    searchKey(e) {
      const n = this.searchResults.length;
      if (e.key === "ArrowDown") { this.search.index = (this.search.index + 1) % Math.max(n, 1); e.preventDefault(); }
      else if (e.key === "ArrowUp") { this.search.index = (this.search.index - 1 + n) % Math.max(n, 1); e.preventDefault(); }
      else if (e.key === "Enter" && n) this.pick(this.searchResults[this.search.index]);
      else if (e.key === "Escape") this.search = null;
      e.stopPropagation();
    },
    pick(t) {
      const s = this.search;
      this.search = null;
      const x = s.filter && s.filter.from === "in" ? s.wx - NODE_WIDTH : s.wx;
      this.$emit("edit", { op: "add", type: t.id, workflow: t.workflow || null, x, y: s.wy - 20, link: s.filter });
    },
    openMenu(e, id, param) {
      const r = this.$refs.viewport.getBoundingClientRect();
      this.closePopups();
      this.selection = this.selection[id] ? this.selection : { [id]: true };
      this.menu = { id, param: param || null, left: Math.min(e.clientX - r.left, r.width - 240),
                    top: Math.min(e.clientY - r.top, r.height - 360) };
    },
    // a node whose params a sweep can vary (any but a sweep itself), and one with a model to compare
    canSweep(id) {
      const def = this.types[this.nodes[id].type];
      return !!def && def.params.length > 0 && def.id !== "sweep.grid";
    },
    hasModels(id) {
      const def = this.types[this.nodes[id].type];
      return !!def && def.params.some((p) => p.name === "model" && p.kind === "text" && p.choices);
    },
    openGrid(id, index) {
      this.$emit("command", { cmd: "sweep_grid", node: id, index: index || 0 });
    },
    menuAction(cmd) {
      const id = this.menu.id;
      const param = this.menu.param;
      this.menu = null;
      if (cmd === "delete") this.deleteSelection();
      else if (cmd === "duplicate") this.$emit("edit", { op: "duplicate", nodes: Object.keys(this.selection) });
      else if (cmd === "toggle_disabled") this.$emit("edit", { op: "disable", node: id, value: !this.nodes[id].disabled });
      else if (cmd === "rename") this.renaming = id;
      else if (cmd === "group") this.groupSelection();
      else if (cmd === "make_subgraph") { this.flushParams(); this.$emit("command", { cmd, nodes: Object.keys(this.selection) }); }
      else {
        this.flushParams();
        this.$emit("command", { cmd, node: id, param });
      }
    },
    closePopups() {
      this.search = null;
      this.menu = null;
      this.closeAnnotationPopups();
    },
    showToast(text, ev, kind = "refused") {
      const r = this.$refs.viewport.getBoundingClientRect();
      this.toast = { text, kind, left: ev ? ev.clientX - r.left + 12 : r.width / 2 - 160, top: ev ? ev.clientY - r.top + 12 : 16 };
      clearTimeout(this.toastTimer);
      this.toastTimer = setTimeout(() => (this.toast = null), 3200);
    },

    // ---- keyboard and clipboard ---------------------------------------------------------
    deleteSelection() {
      const nodes = Object.keys(this.selection);
      const links = this.selectedLink ? [{ target: this.selectedLink.target, port: this.selectedLink.port, link: this.selectedLink.link }] : [];
      if (nodes.length || links.length) this.$emit("edit", { op: "delete", nodes, links });
      this.selection = {};
      this.selectedLink = null;
    },
    keydown(e) {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "s") { e.preventDefault(); this.flushParams(); this.$emit("command", { cmd: "save" }); return; }
      if (mod && key === "enter") { e.preventDefault(); this.flushParams(); this.$emit("command", { cmd: "run" }); return; }
      if (e.key === "Escape") { this.closePopups(); this.lightbox = null; return; }
      if (isTyping(e.target)) return;
      if (this.annotationKey(e, mod, key)) return;
      if (mod && key === "z") { e.preventDefault(); this.$emit("command", { cmd: e.shiftKey ? "redo" : "undo" }); }
      else if (mod && key === "y") { e.preventDefault(); this.$emit("command", { cmd: "redo" }); }
      else if (mod && key === "d") { e.preventDefault(); this.$emit("edit", { op: "duplicate", nodes: Object.keys(this.selection) }); }
      else if (mod && key === "a") { e.preventDefault(); this.selection = Object.fromEntries(this.nodeIds.map((id) => [id, true])); }
      else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); this.deleteSelection(); }
      else if (!mod && key === "f") this.fitView();
    },
    copy(e) {
      if (isTyping(e.target) || !Object.keys(this.selection).length) return;
      this.copiedText = JSON.stringify(this.fragment(Object.keys(this.selection)), null, 2);
      e.clipboardData.setData("text/plain", this.copiedText);
      e.preventDefault();
      this.showToast(`Copied ${Object.keys(this.selection).length} node(s)`, null, "info");
    },
    paste(e) {
      if (isTyping(e.target)) return;
      const text = e.clipboardData.getData("text/plain");
      if (!text || !text.includes("flowbanana/workflow")) return;
      e.preventDefault();
      this.$emit("edit", { op: "paste", text, x: this.pointerWorld.x, y: this.pointerWorld.y });
    },
    // The selection as a workflow file of its own (the clipboard format, readable by any tab).
    fragment(ids) {
      const keep = new Set(ids);
      const nodes = {}, layout = {};
      for (const id of ids) {
        const n = this.nodes[id];
        const inputs = {};
        for (const [port, links] of Object.entries(n.inputs)) {
          const inside = links.filter((l) => keep.has(linkTarget(l).node));
          if (inside.length) inputs[port] = inside.length === 1 ? inside[0] : inside;
        }
        nodes[id] = { type: n.type, params: n.params, ...(Object.keys(inputs).length ? { inputs } : {}), ...(n.title ? { title: n.title } : {}),
                      ...(n.workflow ? { workflow: n.workflow } : {}) };
        layout[id] = { x: n.x, y: n.y, ...(n.extra.length ? { extra_inputs: n.extra } : {}) };
      }
      return { format: "flowbanana/workflow", version: 2, name: "clipboard", nodes, ui: { nodes: layout } };
    },
    pointerMove(e) {
      this.pointerWorld = this.toWorld(e.clientX, e.clientY);
    },

    // ---- minimap ------------------------------------------------------------------------
    drawMinimapSoon() {
      if (this.miniFrame) return;
      this.miniFrame = requestAnimationFrame(() => {
        this.miniFrame = null;
        this.drawMinimap();
      });
    },
    drawMinimap() {
      const canvas = this.$refs.minimap;
      const r = this.$refs.viewport && this.$refs.viewport.getBoundingClientRect();
      if (!canvas || !r) return;
      const ctx = canvas.getContext("2d");
      const W = canvas.width, H = canvas.height;
      ctx.clearRect(0, 0, W, H);
      const b = this.withAnnotations(this.bounds(this.nodeIds));
      if (!b) return;
      const vx0 = -this.view.x / this.view.zoom, vy0 = -this.view.y / this.view.zoom;
      const vx1 = vx0 + r.width / this.view.zoom, vy1 = vy0 + r.height / this.view.zoom;
      const x0 = Math.min(b.x0, vx0), y0 = Math.min(b.y0, vy0), x1 = Math.max(b.x1, vx1), y1 = Math.max(b.y1, vy1);
      const s = Math.min((W - 8) / (x1 - x0), (H - 8) / (y1 - y0));
      const ox = (W - (x1 - x0) * s) / 2 - x0 * s, oy = (H - (y1 - y0) * s) / 2 - y0 * s;
      this.miniMap = { s, ox, oy };
      this.drawAnnotationsOnMinimap(ctx, s, ox, oy);
      for (const [id, n] of Object.entries(this.nodes)) {
        const o = this.offsets[id] || { w: NODE_WIDTH, h: 120 };
        const def = this.defOf(n);
        ctx.fillStyle = this.selection[id] ? "#f7d046" : (def && this.catalogue.categories[def.category]) || "#666";
        ctx.fillRect(n.x * s + ox, n.y * s + oy, Math.max(2, o.w * s), Math.max(2, o.h * s));
      }
      ctx.strokeStyle = "rgba(255,255,255,0.8)";
      ctx.lineWidth = 1;
      ctx.strokeRect(vx0 * s + ox, vy0 * s + oy, (vx1 - vx0) * s, (vy1 - vy0) * s);
    },
    minimapDown(e) {
      const go = (ev) => {
        const m = this.miniMap;
        if (!m) return;
        const rect = this.$refs.minimap.getBoundingClientRect();
        const wx = (ev.clientX - rect.left - m.ox) / m.s, wy = (ev.clientY - rect.top - m.oy) / m.s;
        const r = this.$refs.viewport.getBoundingClientRect();
        this.view = { ...this.view, x: r.width / 2 - wx * this.view.zoom, y: r.height / 2 - wy * this.view.zoom };
        this.drawMinimap();
      };
      go(e);
      this.track(e, go, () => this.viewChanged());
    },
  },
  template: `
  <div class="fb-editor">
    <aside class="fb-palette">
      <input class="fb-input fb-palette-search" v-model="paletteQuery" placeholder="Search nodes…" @keydown.stop
             @keydown.enter="palette.length && paletteClick(palette[0].types[0])">
      <div class="fb-palette-list">
        <div v-for="g in palette" :key="g.category" class="fb-cat">
          <div class="fb-cat-head" @click="collapsed[g.category] = !collapsed[g.category]">
            <span class="fb-dot" :style="{background: g.color}"></span>{{ g.category }}
            <span class="fb-spacer"></span><span class="fb-muted">{{ collapsed[g.category] && !paletteQuery ? '+' : '−' }}</span>
          </div>
          <template v-if="!collapsed[g.category] || paletteQuery">
            <div v-for="t in g.types" :key="t.workflow || t.id" class="fb-pal-item" draggable="true" :data-type="t.workflow || t.id"
                 :title="t.description" @dragstart="paletteDragStart($event, t)" @click="paletteClick(t)">
              <span class="fb-pal-title">{{ t.title }}</span><span class="fb-pal-id">{{ t.workflow || t.id }}</span>
            </div>
          </template>
        </div>
        <div v-if="!palette.length" class="fb-muted fb-pad">No node matches.</div>
      </div>
      <div class="fb-palette-tip fb-muted">Drag onto the canvas, or double-click the canvas to search.</div>
    </aside>
    <div ref="viewport" class="fb-viewport" :class="{'fb-linking': drag}" tabindex="-1"
         @pointerdown.self="backgroundDown" @wheel="wheel" @dblclick="backgroundDblClick" @pointermove="pointerMove"
         @dragover="dragOver" @drop="drop" @contextmenu.prevent="openCanvasMenu">
      <div ref="world" class="fb-world" @pointerdown.self="backgroundDown">
        <fb-group v-for="id in groupIds" :key="id" :id="id" :group="groups[id]"
                  :selected="!!selectedBox && selectedBox.kind === 'groups' && selectedBox.id === id"></fb-group>
        <fb-links :nodes="nodes" :offsets="offsets" :selected-link="selectedLink" :drag="drag" :pending="pending" :rect="drawnRect"></fb-links>
        <fb-node v-for="id in visibleIds" :key="id" :id="id" :node="nodes[id]" :def="defOf(nodes[id]) || {id: nodes[id].type, title: nodes[id].type + ' (unknown)', category: '?', inputs: [], params: [], outputs: [], description: nodes[id].type === 'workflow' ? 'This subgraph cannot be read: see the problems.' : 'This node type is not installed.'}"
                 :status="statuses[id]" :selected="!!selection[id]" :problems="problemsByNode[id] || noProblems"
                 :warnings="warningsByNode[id] || noProblems"
                 :show-problems="showProblems" :drag="drag" :room="rooms[id]"></fb-node>
        <fb-note v-for="id in noteIds" :key="id" :id="id" :note="notes[id]"
                 :selected="!!selectedBox && selectedBox.kind === 'notes' && selectedBox.id === id"></fb-note>
      </div>
      <div v-if="band" class="fb-band" :style="{left: Math.min(band.x0, band.x1) + 'px', top: Math.min(band.y0, band.y1) + 'px', width: Math.abs(band.x1 - band.x0) + 'px', height: Math.abs(band.y1 - band.y0) + 'px'}"></div>
      <div v-if="!nodeIds.length" class="fb-empty">Double-click to add a node, or drag one from the palette.</div>
      <div class="fb-zoombar" @pointerdown.stop @dblclick.stop>
        <button class="fb-icon-btn" title="zoom out" @click="zoomBy(1 / 1.2)">−</button>
        <span class="fb-zoom-label" title="zoom">{{ zoomLabel }}%</span>
        <button class="fb-icon-btn" title="zoom in" @click="zoomBy(1.2)">+</button>
        <button class="fb-icon-btn fb-fit" title="fit to view (F)" @click="fitView()">⤢</button>
        <button class="fb-icon-btn" title="keyboard shortcuts" :class="{'fb-on': help}" @click="help = !help">?</button>
      </div>
      <div v-if="help" class="fb-help" @pointerdown.stop @dblclick.stop>
        <div v-for="[keys, what] in shortcuts" :key="keys" class="fb-help-row"><span class="fb-kbd">{{ keys }}</span><span>{{ what }}</span></div>
      </div>
      <canvas ref="minimap" class="fb-minimap" width="200" height="130" @pointerdown.stop="minimapDown" @dblclick.stop></canvas>
      <div v-if="search" class="fb-search" :style="{left: search.left + 'px', top: search.top + 'px'}" @pointerdown.stop @dblclick.stop @wheel.stop>
        <input ref="searchInput" class="fb-input" v-model="search.query" @input="search.index = 0" @keydown="searchKey"
               :placeholder="search.filter ? 'Compatible nodes for ' + search.filter.type + '…' : 'Add a node…'">
        <div class="fb-search-list">
          <div v-for="(t, i) in searchResults" :key="t.workflow || t.id" class="fb-search-item" :class="{'fb-active': i === search.index}"
               @mouseenter="search.index = i" @click="pick(t)">
            <span class="fb-dot" :style="{background: catalogue.categories[t.category]}"></span>
            <span class="fb-pal-title">{{ t.title }}</span><span class="fb-pal-id">{{ t.workflow || t.id }}</span>
          </div>
          <div v-if="!searchResults.length" class="fb-muted fb-pad">No node fits.</div>
        </div>
      </div>
      <div v-if="menu" class="fb-menu" :style="{left: menu.left + 'px', top: menu.top + 'px'}" @pointerdown.stop>
        <div class="fb-menu-item" @click="menuAction('run_node')">Run this node</div>
        <div class="fb-menu-item" @click="menuAction('run_from')">Run from here</div>
        <div class="fb-menu-item" @click="menuAction('regenerate')">Regenerate (new seed)</div>
        <div v-if="canPaint(menu.id)" class="fb-menu-item" @click="menuAction('paint_mask')">Paint mask…</div>
        <div v-if="canCompare(menu.id)" class="fb-menu-item" @click="menuAction('compare')">Compare with input</div>
        <div v-if="canSweep(menu.id)" class="fb-menu-item" data-menu="sweep" @click="menuAction('sweep')">{{ menu.param ? 'Sweep “' + menu.param.replace(/_/g, ' ') + '”…' : 'Sweep a param…' }}</div>
        <div v-if="hasModels(menu.id)" class="fb-menu-item" data-menu="compare_models" @click="menuAction('compare_models')">Compare models</div>
        <div class="fb-menu-sep"></div>
        <div class="fb-menu-item" @click="menuAction('rename')">Rename…</div>
        <div class="fb-menu-item" @click="menuAction('toggle_disabled')">{{ nodes[menu.id].disabled ? 'Enable' : 'Disable (skip when running)' }}</div>
        <div v-if="defOf(nodes[menu.id]) && defOf(nodes[menu.id]).params.length" class="fb-menu-item" @click="menuAction('expose')">Add a param to the inputs form…</div>
        <div v-if="defOf(nodes[menu.id]) && defOf(nodes[menu.id]).outputs.length" class="fb-menu-item" data-testid="menu-expose-output" @click="menuAction('expose_output')">Add an output to the workflow's outputs…</div>
        <div class="fb-menu-sep"></div>
        <div class="fb-menu-item" data-testid="menu-make-subgraph" @click="menuAction('make_subgraph')">Make subgraph from {{ Object.keys(selection).length > 1 ? Object.keys(selection).length + ' selected nodes' : 'this node' }}</div>
        <template v-if="nodes[menu.id].type === 'workflow'">
          <div class="fb-menu-item" data-testid="menu-open-subgraph" @click="menuAction('open_subgraph')">Open subgraph</div>
          <div class="fb-menu-item" data-testid="menu-unpack" @click="menuAction('unpack')">Unpack subgraph</div>
        </template>
        <div class="fb-menu-sep"></div>
        <div class="fb-menu-item" data-menu-item="group" @click="menuAction('group')">Group {{ Object.keys(selection).length > 1 ? 'the ' + Object.keys(selection).length + ' selected nodes' : 'this node' }} <span class="fb-kbd">Ctrl+G</span></div>
        <div class="fb-menu-item" @click="menuAction('duplicate')">Duplicate <span class="fb-kbd">Ctrl+D</span></div>
        <div class="fb-menu-item fb-danger" @click="menuAction('delete')">Delete <span class="fb-kbd">Del</span></div>
      </div>
      <fb-annotation-menus></fb-annotation-menus>
      <div v-if="toast" :class="['fb-toast', 'fb-toast-' + toast.kind]" :style="{left: toast.left + 'px', top: toast.top + 'px'}">{{ toast.text }}</div>
    </div>
    <div v-if="lightbox" class="fb-lightbox" @click="lightbox = null"><img :src="lightbox"></div>
  </div>`,
};
