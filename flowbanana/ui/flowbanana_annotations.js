// Groups and sticky notes on flowbanana's canvas, and the canvas's own right-click menu.
//
// Mixed into the canvas component (flowbanana_canvas.js), whose state it shares. A group is a titled,
// coloured box: dragging its title bar carries the nodes whose title bar is inside it (and the notes and
// smaller groups inside it). A note is free text. Both are saved in the workflow; Python's side is
// flowbanana/ui/annotate.py, and edits go to it as {op: "annotate", action, ...}.
import { markRaw } from "vue";

const GROUP_COLORS = ["#3f6ea5", "#2e7d6f", "#5b8c3a", "#a0762c", "#a34848", "#7b4fa0", "#5f6368"];
const NOTE_COLORS = ["#e8c547", "#f0a05a", "#9fd49a", "#8ab8e6", "#cfa6e0", "#c4c7cc"];
const NOTE_DEBOUNCE_MS = 500;
const PAD = 32; // room around grouped nodes
const HEAD = 56; // room above them for the group's title bar
const NODE_W = 280;
const FAR_ZOOM = 0.6; // below this zoom a group's title is drawn large above it
const TITLE_PX = 15; // and this big on screen

function contains(box, x, y) {
  return x >= box.x && x <= box.x + box.w && y >= box.y && y <= box.y + box.h;
}

const FbGroup = {
  inject: ["canvas"],
  props: ["id", "group", "selected"],
  computed: {
    // zoomed far out, the title is drawn above the box at a size that stays readable
    farTitle() {
      const zoom = this.canvas.view.zoom;
      return zoom < FAR_ZOOM ? { fontSize: Math.round(TITLE_PX / zoom) + "px" } : null;
    },
  },
  template: `
  <div class="fb-group" :class="{'fb-group-selected': selected}" :data-group="id"
       :style="{transform: 'translate(' + group.x + 'px,' + group.y + 'px)', width: group.w + 'px', height: group.h + 'px', '--group': group.color}">
    <div class="fb-group-head" :title="'Drag to move the group with its nodes; double-click to rename'"
         @pointerdown.stop="canvas.boxDown($event, 'groups', id)" @dblclick.stop="canvas.editing = 'groups|' + id"
         @contextmenu.prevent.stop="canvas.openBoxMenu($event, 'groups', id)">
      <input v-if="canvas.editing === 'groups|' + id" class="fb-input fb-group-title-input" :value="group.title" data-group-title
             placeholder="Group title" @pointerdown.stop @dblclick.stop @keydown.stop="canvas.titleKey($event, id)"
             @blur="canvas.titleDone($event, id)"
             :ref="(el) => canvas.focusOnce(el)">
      <span v-else class="fb-group-title" :class="{'fb-group-title-hidden': farTitle}">{{ group.title || 'Untitled group' }}</span>
      <button class="fb-icon-btn fb-box-btn" title="Group actions" :data-group-menu="id" @pointerdown.stop
              @click.stop="canvas.openBoxMenu($event, 'groups', id)">⋮</button>
    </div>
    <div v-if="farTitle" class="fb-group-far-title" :style="farTitle" @pointerdown.stop="canvas.boxDown($event, 'groups', id)"
         @contextmenu.prevent.stop="canvas.openBoxMenu($event, 'groups', id)">{{ group.title || 'Untitled group' }}</div>
    <div class="fb-resize" title="Drag to resize" @pointerdown.stop="canvas.resizeDown($event, 'groups', id)"></div>
  </div>`,
};

const FbNote = {
  inject: ["canvas"],
  props: ["id", "note", "selected"],
  template: `
  <div class="fb-note" :class="{'fb-note-selected': selected}" :data-note="id"
       :style="{transform: 'translate(' + note.x + 'px,' + note.y + 'px)', width: note.w + 'px', height: note.h + 'px', '--note': note.color}"
       @pointerdown.stop="canvas.boxDown($event, 'notes', id)" @dblclick.stop
       @contextmenu.prevent.stop="canvas.openBoxMenu($event, 'notes', id)">
    <div class="fb-note-bar" title="Drag to move the note">
      <span class="fb-note-grip">⠿</span>
      <button class="fb-icon-btn fb-box-btn" title="Note actions" :data-note-menu="id" @pointerdown.stop
              @click.stop="canvas.openBoxMenu($event, 'notes', id)">⋮</button>
    </div>
    <textarea class="fb-note-text" :value="note.text" placeholder="Write a note…" spellcheck="false" data-note-text
              @pointerdown.stop @wheel.stop @input="canvas.typeNote(id, $event.target.value)"
              @change="canvas.typeNote(id, $event.target.value, true)"></textarea>
    <div class="fb-resize" title="Drag to resize" @pointerdown.stop="canvas.resizeDown($event, 'notes', id)"></div>
  </div>`,
};

// The canvas menu (right-click on empty canvas) and a group's or note's menu.
const FbAnnotationMenus = {
  inject: ["canvas"],
  computed: {
    selected() {
      return Object.keys(this.canvas.selection).length;
    },
  },
  template: `
  <div v-if="canvas.canvasMenu" class="fb-menu" data-menu="canvas" @pointerdown.stop @dblclick.stop @contextmenu.prevent.stop
       :style="{left: canvas.canvasMenu.left + 'px', top: canvas.canvasMenu.top + 'px'}">
    <div class="fb-menu-item" data-menu-item="add_node" @click="canvas.canvasAction('add_node')">Add node here… <span class="fb-kbd">double-click</span></div>
    <div class="fb-menu-item" data-menu-item="add_note" @click="canvas.canvasAction('add_note')">Add note here</div>
    <div class="fb-menu-item" data-menu-item="add_group" @click="canvas.canvasAction('add_group')">
      {{ selected ? 'Group the ' + (selected === 1 ? 'selected node' : selected + ' selected nodes') : 'Add group here' }}
      <span v-if="selected" class="fb-kbd">Ctrl+G</span></div>
    <div class="fb-menu-sep"></div>
    <div class="fb-menu-item" data-menu-item="paste" @click="canvas.canvasAction('paste')">Paste here <span class="fb-kbd">Ctrl+V</span></div>
    <div class="fb-menu-item" data-menu-item="select_all" @click="canvas.canvasAction('select_all')">Select all <span class="fb-kbd">Ctrl+A</span></div>
    <div class="fb-menu-item" data-menu-item="fit" @click="canvas.canvasAction('fit')">Fit the graph in view <span class="fb-kbd">F</span></div>
  </div>
  <div v-if="canvas.boxMenu" class="fb-menu" data-menu="box" @pointerdown.stop @dblclick.stop @contextmenu.prevent.stop
       :style="{left: canvas.boxMenu.left + 'px', top: canvas.boxMenu.top + 'px'}">
    <template v-if="canvas.boxMenu.kind === 'groups'">
      <div class="fb-menu-item" data-menu-item="rename" @click="canvas.boxAction('rename')">Rename…</div>
      <div class="fb-menu-item" data-menu-item="select_nodes" @click="canvas.boxAction('select_nodes')">Select its nodes</div>
      <div class="fb-menu-item" data-menu-item="fit_group" @click="canvas.boxAction('fit_group')">Fit around its nodes</div>
    </template>
    <div class="fb-menu-label">Colour</div>
    <div class="fb-swatches">
      <button v-for="c in (canvas.boxMenu.kind === 'groups' ? canvas.groupColors : canvas.noteColors)" :key="c"
              class="fb-swatch" :class="{'fb-swatch-on': canvas[canvas.boxMenu.kind][canvas.boxMenu.id].color === c}"
              :style="{background: c}" :data-swatch="c" :title="c" @click="canvas.boxAction('color', c)"></button>
    </div>
    <div class="fb-menu-sep"></div>
    <div class="fb-menu-item fb-danger" data-menu-item="delete" @click="canvas.boxAction('delete')">
      {{ canvas.boxMenu.kind === 'groups' ? 'Delete group (keep its nodes)' : 'Delete note' }} <span class="fb-kbd">Del</span></div>
  </div>`,
};

export const annotations = {
  components: { FbGroup, FbNote, FbAnnotationMenus },
  data() {
    return {
      groups: {},
      notes: {},
      selectedBox: null, // {kind: "groups" | "notes", id}
      editing: null, // "groups|id" while a group's title is typed
      canvasMenu: null,
      boxMenu: null,
      groupColors: GROUP_COLORS,
      noteColors: NOTE_COLORS,
    };
  },
  computed: {
    // biggest first, so a group inside another is drawn (and clicked) on top of it
    groupIds() {
      return Object.keys(this.groups).sort((a, b) => this.groups[b].w * this.groups[b].h - this.groups[a].w * this.groups[a].h);
    },
    noteIds() {
      return Object.keys(this.notes);
    },
  },
  created() {
    this.noteTimers = markRaw({});
    this.pendingNotes = markRaw({});
    this.shortcuts.push(["Ctrl+G", "group the selected nodes"], ["Right-click", "menus: node, group, note, canvas"]);
  },
  methods: {
    // ---- from Python (called by the canvas's load and patch) -------------------------------
    loadAnnotations(state) {
      this.groups = state.groups || {};
      this.notes = state.notes || {};
      this.selectedBox = null;
      this.editing = null;
    },
    patchAnnotations(p) {
      const moving = this.boxMoving || {};
      if (p.groups) {
        const fresh = Object.keys(p.groups).filter((id) => !this.groups[id]);
        for (const id of Object.keys(moving.groups || {})) if (p.groups[id]) Object.assign(p.groups[id], { x: this.groups[id].x, y: this.groups[id].y });
        this.groups = p.groups;
        if (this.namingNewGroup && fresh.length === 1) {
          this.namingNewGroup = false;
          this.selectedBox = { kind: "groups", id: fresh[0] };
          this.editing = "groups|" + fresh[0];
        }
      }
      if (p.notes) {
        for (const [id, text] of Object.entries(this.pendingNotes)) if (p.notes[id]) p.notes[id].text = text;
        for (const id of Object.keys(moving.notes || {})) if (p.notes[id]) Object.assign(p.notes[id], { x: this.notes[id].x, y: this.notes[id].y });
        this.notes = p.notes;
      }
      if (this.selectedBox && !this[this.selectedBox.kind][this.selectedBox.id]) this.selectedBox = null;
      if (p.groups || p.notes) this.drawMinimapSoon();
    },
    closeAnnotationPopups() {
      this.canvasMenu = null;
      this.boxMenu = null;
      this.selectedBox = null;
    },
    // ---- geometry --------------------------------------------------------------------------
    // the bounds of some nodes, grown to take in every group and note (to fit the whole canvas in view)
    withAnnotations(b) {
      const boxes = [...Object.values(this.groups), ...Object.values(this.notes)];
      if (!boxes.length) return b;
      let { x0, y0, x1, y1 } = b || { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
      for (const g of boxes) {
        x0 = Math.min(x0, g.x); y0 = Math.min(y0, g.y);
        x1 = Math.max(x1, g.x + g.w); y1 = Math.max(y1, g.y + g.h);
      }
      return { x0, y0, x1, y1 };
    },
    drawAnnotationsOnMinimap(ctx, s, ox, oy) {
      for (const [id, g] of Object.entries(this.groups)) {
        ctx.fillStyle = g.color + "40";
        ctx.strokeStyle = g.color;
        ctx.fillRect(g.x * s + ox, g.y * s + oy, g.w * s, g.h * s);
        ctx.strokeRect(g.x * s + ox, g.y * s + oy, g.w * s, g.h * s);
      }
      for (const n of Object.values(this.notes)) {
        ctx.fillStyle = n.color;
        ctx.fillRect(n.x * s + ox, n.y * s + oy, Math.max(2, n.w * s), Math.max(2, n.h * s));
      }
    },
    // what a dragged group carries: nodes whose title bar is inside it, notes whose centre is, groups wholly inside
    carriedBy(id) {
      const box = this.groups[id];
      const carried = { nodes: {}, groups: { [id]: [box.x, box.y] }, notes: {} };
      for (const [nid, n] of Object.entries(this.nodes)) {
        const w = (this.offsets[nid] || { w: NODE_W }).w;
        if (contains(box, n.x + w / 2, n.y + 17)) carried.nodes[nid] = [n.x, n.y];
      }
      for (const [nid, n] of Object.entries(this.notes)) if (contains(box, n.x + n.w / 2, n.y + n.h / 2)) carried.notes[nid] = [n.x, n.y];
      for (const [gid, g] of Object.entries(this.groups)) {
        if (gid !== id && contains(box, g.x, g.y) && contains(box, g.x + g.w, g.y + g.h)) carried.groups[gid] = [g.x, g.y];
      }
      return carried;
    },
    // ---- pointer -----------------------------------------------------------------------------
    boxDown(e, kind, id) {
      if (e.button !== 0) return;
      this.closePopups();
      this.selection = {};
      this.selectedLink = null;
      this.selectedBox = { kind, id };
      const box = this[kind][id];
      const carried = kind === "groups" ? this.carriedBy(id) : { nodes: {}, groups: {}, notes: { [id]: [box.x, box.y] } };
      this.boxMoving = carried;
      this.moving = { start: carried.nodes }; // the canvas keeps these where the pointer has them if a patch comes
      const startX = e.clientX, startY = e.clientY;
      let moved = false;
      this.track(e, (ev) => {
        const dx = Math.round((ev.clientX - startX) / this.view.zoom), dy = Math.round((ev.clientY - startY) / this.view.zoom);
        moved = moved || Math.abs(dx) + Math.abs(dy) > 2;
        for (const [what, places] of Object.entries(carried)) {
          const items = what === "nodes" ? this.nodes : this[what];
          for (const [cid, [x, y]] of Object.entries(places)) {
            if (items[cid]) { items[cid].x = x + dx; items[cid].y = y + dy; }
          }
        }
        this.drawMinimapSoon();
      }, () => {
        this.boxMoving = null;
        this.moving = null;
        this.cull(true); // nodes carried into (or out of) view are put in (or left out of) the page
        if (!moved) return;
        const place = (items, places) => Object.fromEntries(Object.keys(places).filter((k) => items[k]).map((k) => [k, [items[k].x, items[k].y]]));
        this.$emit("edit", { op: "move", moves: place(this.nodes, carried.nodes),
                             boxes: { groups: place(this.groups, carried.groups), notes: place(this.notes, carried.notes) } });
      });
    },
    resizeDown(e, kind, id) {
      if (e.button !== 0) return;
      this.closePopups();
      this.selectedBox = { kind, id };
      const box = this[kind][id];
      const start = { x: e.clientX, y: e.clientY, w: box.w, h: box.h };
      const min = kind === "groups" ? [160, 90] : [140, 80];
      this.track(e, (ev) => {
        box.w = Math.max(min[0], Math.round(start.w + (ev.clientX - start.x) / this.view.zoom));
        box.h = Math.max(min[1], Math.round(start.h + (ev.clientY - start.y) / this.view.zoom));
        this.drawMinimapSoon();
      }, () => {
        if (box.w !== start.w || box.h !== start.h) this.annotate("resize", { kind, id, x: box.x, y: box.y, w: box.w, h: box.h });
      });
    },
    // ---- edits -------------------------------------------------------------------------------
    annotate(action, args) {
      this.$emit("edit", { op: "annotate", action, ...args });
    },
    // a group around the selected nodes, its title then typed in place
    groupSelection() {
      const ids = Object.keys(this.selection);
      const b = this.bounds(ids);
      if (!b) return false;
      const used = new Set(Object.values(this.groups).map((g) => g.color));
      const color = GROUP_COLORS.find((c) => !used.has(c)) || GROUP_COLORS[0];
      this.namingNewGroup = true;
      this.annotate("add_group", { x: b.x0 - PAD, y: b.y0 - HEAD, w: b.x1 - b.x0 + 2 * PAD, h: b.y1 - b.y0 + HEAD + PAD,
                                   title: "Group", color });
      return true;
    },
    // an input that appears to be typed in (a new group's title); after the frame, when it is surely in the page
    focusOnce(el) {
      if (!el || el.dataset.focused) return;
      el.dataset.focused = "1";
      requestAnimationFrame(() => { el.focus(); el.select(); });
    },
    titleKey(e, id) {
      if (e.key === "Enter") e.target.blur();
      else if (e.key === "Escape") { e.target.dataset.cancelled = "1"; this.editing = null; }
    },
    titleDone(e, id) {
      if (!e.target.dataset.cancelled && this.groups[id] && e.target.value !== this.groups[id].title) {
        this.groups[id].title = e.target.value;
        this.annotate("set", { kind: "groups", id, title: e.target.value });
      }
      this.editing = null;
    },
    typeNote(id, text, immediate) {
      if (!this.notes[id]) return;
      this.notes[id].text = text;
      this.pendingNotes[id] = text;
      clearTimeout(this.noteTimers[id]);
      const send = () => {
        delete this.noteTimers[id];
        delete this.pendingNotes[id];
        this.annotate("set", { kind: "notes", id, text });
      };
      if (immediate) send();
      else this.noteTimers[id] = setTimeout(send, NOTE_DEBOUNCE_MS);
    },
    deleteBox() {
      const { kind, id } = this.selectedBox;
      this.selectedBox = null;
      this.annotate("delete", { kind, id });
    },
    // Ctrl+G and Delete; true when the key was ours
    annotationKey(e, mod, key) {
      if (mod && key === "g") {
        e.preventDefault();
        if (!this.groupSelection()) this.showToast("Select some nodes first, then Ctrl+G puts a group around them.", null);
        return true;
      }
      if ((e.key === "Delete" || e.key === "Backspace") && this.selectedBox && !Object.keys(this.selection).length) {
        e.preventDefault();
        this.deleteBox();
        return true;
      }
      return false;
    },
    // ---- menus -------------------------------------------------------------------------------
    menuPlace(e, width, height) {
      const r = this.$refs.viewport.getBoundingClientRect();
      return { left: Math.max(4, Math.min(e.clientX - r.left, r.width - width)), top: Math.max(4, Math.min(e.clientY - r.top, r.height - height)) };
    },
    openCanvasMenu(e) {
      if (e.target.closest(".fb-menu, .fb-search, .fb-zoombar, .fb-minimap, .fb-help")) return;
      this.closePopups();
      const w = this.toWorld(e.clientX, e.clientY);
      this.canvasMenu = { ...this.menuPlace(e, 250, 240), clientX: e.clientX, clientY: e.clientY, wx: w.x, wy: w.y };
    },
    openBoxMenu(e, kind, id) {
      this.closePopups();
      this.selection = {};
      this.selectedBox = { kind, id };
      this.boxMenu = { kind, id, ...this.menuPlace(e, 250, 230) };
    },
    async canvasAction(cmd) {
      const m = this.canvasMenu;
      this.canvasMenu = null;
      if (cmd === "add_node") this.openSearch(m.clientX, m.clientY, null);
      else if (cmd === "add_note") this.annotate("add_note", { x: m.wx, y: m.wy });
      else if (cmd === "add_group" && !this.groupSelection()) {
        this.namingNewGroup = true;
        this.annotate("add_group", { x: m.wx, y: m.wy, w: 520, h: 320, title: "Group" });
      } else if (cmd === "paste") await this.pasteAt(m.wx, m.wy);
      else if (cmd === "select_all") this.selection = Object.fromEntries(this.nodeIds.map((id) => [id, true]));
      else if (cmd === "fit") this.fitView();
    },
    // the system clipboard when the page may read it, else what this tab copied last
    async pasteAt(x, y) {
      let text = null;
      try {
        text = await navigator.clipboard.readText();
      } catch (err) {
        text = null; // reading the clipboard needs the user's permission; this tab's own copy will do
      }
      if (!text || !text.includes("flowbanana/workflow")) text = this.copiedText;
      if (!text) {
        this.showToast("Nothing to paste: select nodes and press Ctrl+C first.", null);
        return;
      }
      this.$emit("edit", { op: "paste", text, x, y });
    },
    boxAction(cmd, value) {
      const { kind, id } = this.boxMenu;
      this.boxMenu = null;
      const box = this[kind][id];
      if (!box) return;
      if (cmd === "rename") this.editing = "groups|" + id;
      else if (cmd === "color") {
        box.color = value;
        this.annotate("set", { kind, id, color: value });
      } else if (cmd === "select_nodes") {
        this.selection = Object.fromEntries(Object.keys(this.carriedBy(id).nodes).map((n) => [n, true]));
        this.selectedBox = null;
      } else if (cmd === "fit_group") {
        const b = this.bounds(Object.keys(this.carriedBy(id).nodes));
        if (b) this.annotate("resize", { kind, id, x: b.x0 - PAD, y: b.y0 - HEAD, w: b.x1 - b.x0 + 2 * PAD, h: b.y1 - b.y0 + HEAD + PAD });
      } else if (cmd === "delete") {
        this.selectedBox = { kind, id };
        this.deleteBox();
      }
    },
  },
};
