// flowbanana's mask editor: paint the area to change (white) over the picture, then send the PNG.
//
// The mask lives here as one byte per image pixel (0 = keep, 255 = change) while painting; the
// overlay canvas shows it tinted, and only the rectangle a stroke touched is redrawn. A brush stamp
// takes the maximum of what is there and what it paints (the eraser the minimum), so going over the
// same spot twice never builds up a soft brush into a hard one. Saving sends the PNG by HTTP POST:
// the websocket to Python carries about 1 MB at most.
import { markRaw } from "vue";

const MIN_ZOOM = 0.05;
const MAX_ZOOM = 32;
const UNDO_BYTES = 256 * 2 ** 20; // undo snapshots kept within this much memory
const TOOLS = [
  { id: "brush", icon: "brush", label: "Brush", key: "b" },
  { id: "eraser", icon: "auto_fix_normal", label: "Eraser", key: "e" },
  { id: "rect", icon: "crop_square", label: "Rectangle", key: "r" },
  { id: "ellipse", icon: "radio_button_unchecked", label: "Ellipse", key: "o" },
  { id: "pan", icon: "pan_tool", label: "Pan (or hold Space, or the middle button)", key: "h" },
];
const COLOURS = ["#ff3d7f", "#f7d046", "#29b6f6", "#66bb6a", "#ffffff"];

function hexRgb(hex) {
  const n = parseInt(hex.slice(1, 7), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export default {
  props: { spec: Object },
  data() {
    return {
      tools: TOOLS,
      colours: COLOURS,
      tool: "brush",
      size: 60,
      hardness: 0.8,
      colour: COLOURS[0],
      opacity: 0.55,
      view: { x: 0, y: 0, zoom: 1 },
      cursor: null, // {x, y} in stage pixels
      shape: null, // the rectangle or ellipse being dragged, in image pixels
      undoCount: 0,
      redoCount: 0,
      saving: false,
      error: null,
      spaceDown: false,
      panning: false,
      loaded: false, // fitted to the window
      ready: false, // the saved mask is in: painting may start
      painted: 0, // share of the image that is masked, for the status line
    };
  },
  computed: {
    image() {
      return this.spec && this.spec.image;
    },
    width() {
      return this.image ? this.image.width : 0;
    },
    height() {
      return this.image ? this.image.height : 0;
    },
    worldStyle() {
      return {
        width: this.width + "px", height: this.height + "px",
        transform: `translate(${this.view.x}px, ${this.view.y}px) scale(${this.view.zoom})`,
      };
    },
    panMode() {
      return this.tool === "pan" || this.spaceDown || this.panning;
    },
    stageCursor() {
      if (this.panMode) return this.panning ? "grabbing" : "grab";
      return this.tool === "rect" || this.tool === "ellipse" ? "crosshair" : "none";
    },
    brushRing() {
      if (!this.cursor || this.panMode || (this.tool !== "brush" && this.tool !== "eraser")) return null;
      const d = this.size * this.view.zoom;
      return { left: this.cursor.x - d / 2 + "px", top: this.cursor.y - d / 2 + "px", width: d + "px", height: d + "px" };
    },
    shapeBox() {
      const s = this.shape;
      if (!s) return null;
      return { x: Math.min(s.x0, s.x1), y: Math.min(s.y0, s.y1), w: Math.abs(s.x1 - s.x0), h: Math.abs(s.y1 - s.y0) };
    },
  },
  watch: {
    spec() {
      this.reset();
    },
    colour() {
      this.flush(0, 0, this.width, this.height);
    },
  },
  mounted() {
    this.onKey = (e) => this.keydown(e);
    this.onKeyUp = (e) => {
      if (e.key === " ") this.spaceDown = false;
    };
    window.addEventListener("keydown", this.onKey, true); // capture: the graph behind must not see Delete or Ctrl+Z
    window.addEventListener("keyup", this.onKeyUp, true);
    this.resizeObserver = markRaw(new ResizeObserver(() => this.loaded || this.fit()));
    if (this.$refs.stage) this.resizeObserver.observe(this.$refs.stage);
    window.flowbananaMask = this; // for tests
    this.reset();
  },
  unmounted() {
    window.removeEventListener("keydown", this.onKey, true);
    window.removeEventListener("keyup", this.onKeyUp, true);
    this.resizeObserver.disconnect();
    if (window.flowbananaMask === this) window.flowbananaMask = null;
  },
  methods: {
    // ---- the mask as pixels ---------------------------------------------------------------
    reset() {
      this.error = null;
      this.saving = false;
      this.undoStack = markRaw([]);
      this.redoStack = markRaw([]);
      this.undoCount = this.redoCount = 0;
      this.loaded = false;
      this.ready = false;
      if (!this.image) return;
      this.mask = markRaw(new Uint8ClampedArray(this.width * this.height));
      this.$nextTick(() => {
        const canvas = this.$refs.overlay;
        if (!canvas) return;
        canvas.width = this.width;
        canvas.height = this.height;
        this.ctx = markRaw(canvas.getContext("2d"));
        this.pixels = markRaw(this.ctx.createImageData(this.width, this.height));
        this.fit();
        if (this.spec.mask) this.loadMask(this.spec.mask);
        else {
          this.flush(0, 0, this.width, this.height);
          this.ready = true;
        }
      });
    },
    loadMask(url) {
      const picture = new Image();
      picture.onload = () => {
        const scratch = document.createElement("canvas");
        scratch.width = this.width;
        scratch.height = this.height;
        const c = scratch.getContext("2d", { willReadFrequently: true });
        c.drawImage(picture, 0, 0, this.width, this.height); // a mask of another size is stretched, as the node does
        const data = c.getImageData(0, 0, this.width, this.height).data;
        for (let i = 0; i < this.mask.length; i++) this.mask[i] = data[i * 4];
        this.flush(0, 0, this.width, this.height);
        this.ready = true;
      };
      picture.onerror = () => {
        this.error = "The saved mask could not be loaded; painting starts empty.";
        this.ready = true;
      };
      picture.src = url;
    },
    // Redraw the overlay inside a rectangle of image pixels: the tint colour, the mask as alpha.
    flush(x0, y0, x1, y1) {
      if (!this.ctx) return;
      x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
      x1 = Math.min(this.width, Math.ceil(x1)); y1 = Math.min(this.height, Math.ceil(y1));
      if (x1 <= x0 || y1 <= y0) return;
      const [r, g, b] = hexRgb(this.colour);
      const out = this.pixels.data, m = this.mask, w = this.width;
      for (let y = y0; y < y1; y++) {
        for (let x = x0, i = y * w + x0; x < x1; x++, i++) {
          const o = i * 4;
          out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = m[i];
        }
      }
      this.ctx.putImageData(this.pixels, 0, 0, x0, y0, x1 - x0, y1 - y0);
      this.countSoon();
    },
    countSoon() {
      clearTimeout(this.countTimer);
      this.countTimer = setTimeout(() => {
        let sum = 0;
        for (let i = 0; i < this.mask.length; i++) sum += this.mask[i];
        this.painted = this.mask.length ? sum / 255 / this.mask.length : 0;
      }, 150);
    },
    // One round dab: full strength within hardness × radius, then a smooth fall to nothing at the edge.
    dab(cx, cy, radius, erase) {
      const inner = radius * this.hardness;
      const outer = Math.max(radius, inner + 1);
      const fall = outer - inner;
      const w = this.width, h = this.height, m = this.mask;
      const x0 = Math.max(0, Math.floor(cx - outer)), x1 = Math.min(w, Math.ceil(cx + outer));
      const y0 = Math.max(0, Math.floor(cy - outer)), y1 = Math.min(h, Math.ceil(cy + outer));
      for (let y = y0; y < y1; y++) {
        const dy = y + 0.5 - cy;
        for (let x = x0; x < x1; x++) {
          const dx = x + 0.5 - cx;
          const d = Math.sqrt(dx * dx + dy * dy);
          if (d >= outer) continue;
          let a = d <= inner ? 1 : 1 - (d - inner) / fall;
          a = a * a * (3 - 2 * a);
          const v = Math.round(a * 255);
          const i = y * w + x;
          if (erase) { if (255 - v < m[i]) m[i] = 255 - v; }
          else if (v > m[i]) m[i] = v;
        }
      }
      this.grow(x0, y0, x1, y1);
    },
    // Dabs along a segment, a fraction of the radius apart, so a fast stroke has no gaps.
    line(a, b, erase) {
      const radius = Math.max(0.5, (this.size / 2) * b.pressure);
      const step = Math.max(0.5, radius * 0.2);
      const dist = Math.hypot(b.x - a.x, b.y - a.y);
      const n = Math.max(1, Math.ceil(dist / step));
      for (let k = 1; k <= n; k++) {
        const t = k / n;
        this.dab(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, radius, erase);
      }
    },
    fillShape(box, ellipse, erase) {
      const w = this.width, m = this.mask;
      const x0 = Math.max(0, Math.round(box.x)), x1 = Math.min(this.width, Math.round(box.x + box.w));
      const y0 = Math.max(0, Math.round(box.y)), y1 = Math.min(this.height, Math.round(box.y + box.h));
      const cx = box.x + box.w / 2, cy = box.y + box.h / 2, rx = box.w / 2, ry = box.h / 2;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          if (ellipse) {
            const nx = (x + 0.5 - cx) / rx, ny = (y + 0.5 - cy) / ry;
            if (nx * nx + ny * ny > 1) continue;
          }
          m[y * w + x] = erase ? 0 : 255;
        }
      }
      this.flush(x0, y0, x1, y1);
    },
    grow(x0, y0, x1, y1) {
      const d = this.dirty;
      this.dirty = d ? [Math.min(d[0], x0), Math.min(d[1], y0), Math.max(d[2], x1), Math.max(d[3], y1)] : [x0, y0, x1, y1];
      if (!this.frame) {
        this.frame = requestAnimationFrame(() => {
          this.frame = null;
          const r = this.dirty;
          this.dirty = null;
          if (r) this.flush(...r);
        });
      }
    },

    // ---- whole-mask actions and undo ------------------------------------------------------
    checkpoint() {
      this.undoStack.push(this.mask.slice());
      const keep = Math.max(1, Math.floor(UNDO_BYTES / Math.max(1, this.mask.length)));
      while (this.undoStack.length > keep) this.undoStack.shift();
      this.redoStack.length = 0;
      this.undoCount = this.undoStack.length;
      this.redoCount = 0;
    },
    undo() {
      if (!this.undoStack.length) return;
      this.redoStack.push(this.mask);
      this.mask = markRaw(this.undoStack.pop());
      this.afterHistory();
    },
    redo() {
      if (!this.redoStack.length) return;
      this.undoStack.push(this.mask);
      this.mask = markRaw(this.redoStack.pop());
      this.afterHistory();
    },
    afterHistory() {
      this.undoCount = this.undoStack.length;
      this.redoCount = this.redoStack.length;
      this.flush(0, 0, this.width, this.height);
    },
    invert() {
      this.checkpoint();
      for (let i = 0; i < this.mask.length; i++) this.mask[i] = 255 - this.mask[i];
      this.flush(0, 0, this.width, this.height);
    },
    clear() {
      this.checkpoint();
      this.mask.fill(0);
      this.flush(0, 0, this.width, this.height);
    },

    // ---- view ---------------------------------------------------------------------------
    fit() {
      const stage = this.$refs.stage;
      if (!stage || !this.width) return;
      const r = stage.getBoundingClientRect();
      if (!r.width || !r.height) return;
      this.loaded = true;
      const pad = 32;
      const zoom = Math.max(MIN_ZOOM, Math.min(4, (r.width - 2 * pad) / this.width, (r.height - 2 * pad) / this.height));
      this.view = { zoom, x: (r.width - this.width * zoom) / 2, y: (r.height - this.height * zoom) / 2 };
    },
    zoomBy(factor, clientX, clientY) {
      const r = this.$refs.stage.getBoundingClientRect();
      const cx = clientX === undefined ? r.left + r.width / 2 : clientX;
      const cy = clientY === undefined ? r.top + r.height / 2 : clientY;
      const zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, this.view.zoom * factor));
      const wx = (cx - r.left - this.view.x) / this.view.zoom, wy = (cy - r.top - this.view.y) / this.view.zoom;
      this.view = { zoom, x: cx - r.left - wx * zoom, y: cy - r.top - wy * zoom };
    },
    wheel(e) {
      e.preventDefault();
      this.zoomBy(Math.exp(-Math.max(-60, Math.min(60, e.deltaY)) * (e.ctrlKey ? 0.01 : 0.003)), e.clientX, e.clientY);
    },
    toImage(e) {
      const r = this.$refs.stage.getBoundingClientRect();
      const pen = e.pointerType === "pen";
      return {
        x: (e.clientX - r.left - this.view.x) / this.view.zoom,
        y: (e.clientY - r.top - this.view.y) / this.view.zoom,
        pressure: pen ? Math.max(0.1, e.pressure || 0.5) : 1,
      };
    },

    // ---- pointers: mouse, pen and touch alike; two fingers pinch and pan ----------------------
    down(e) {
      if (!this.image || !this.ready || this.saving) return;
      this.$refs.stage.setPointerCapture(e.pointerId);
      this.pointers = this.pointers || markRaw(new Map());
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.pointers.size === 2) {
        this.abandonStroke();
        this.pinch = this.pinchState();
        return;
      }
      if (this.pointers.size > 2) return;
      if (e.button === 1 || this.panMode) {
        this.panning = { x: e.clientX, y: e.clientY, view: { ...this.view } };
        return;
      }
      if (e.button !== 0 && e.button !== 5) return;
      const p = this.toImage(e);
      const erase = this.tool === "eraser" || e.button === 5 || e.altKey; // 5: a pen's eraser end
      this.checkpoint();
      if (this.tool === "rect" || this.tool === "ellipse") {
        this.shape = { x0: p.x, y0: p.y, x1: p.x, y1: p.y, erase };
      } else {
        this.stroke = { last: p, erase };
        this.line(p, p, erase);
      }
    },
    move(e) {
      const r = this.$refs.stage.getBoundingClientRect();
      this.cursor = { x: e.clientX - r.left, y: e.clientY - r.top };
      if (this.pointers && this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.pinch && this.pointers.size === 2) {
        const now = this.pinchState();
        const zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, this.pinch.view.zoom * now.dist / this.pinch.dist));
        const wx = (this.pinch.cx - r.left - this.pinch.view.x) / this.pinch.view.zoom;
        const wy = (this.pinch.cy - r.top - this.pinch.view.y) / this.pinch.view.zoom;
        this.view = { zoom, x: now.cx - r.left - wx * zoom, y: now.cy - r.top - wy * zoom };
        return;
      }
      if (this.panning) {
        const s = this.panning;
        this.view = { ...s.view, x: s.view.x + e.clientX - s.x, y: s.view.y + e.clientY - s.y };
        return;
      }
      if (this.shape) {
        const p = this.toImage(e);
        let x1 = p.x, y1 = p.y;
        if (e.shiftKey) { // a square or a circle
          const side = Math.max(Math.abs(x1 - this.shape.x0), Math.abs(y1 - this.shape.y0));
          x1 = this.shape.x0 + Math.sign(x1 - this.shape.x0 || 1) * side;
          y1 = this.shape.y0 + Math.sign(y1 - this.shape.y0 || 1) * side;
        }
        this.shape = { ...this.shape, x1, y1 };
        return;
      }
      if (this.stroke) {
        const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
        for (const ev of events.length ? events : [e]) {
          const p = this.toImage(ev);
          this.line(this.stroke.last, p, this.stroke.erase);
          this.stroke.last = p;
        }
      }
    },
    up(e) {
      if (this.pointers) this.pointers.delete(e.pointerId);
      if (this.pinch) {
        if (!this.pointers || this.pointers.size < 2) this.pinch = null;
        return;
      }
      this.panning = false;
      if (this.shape) {
        const box = this.shapeBox;
        const erase = this.shape.erase;
        this.shape = null;
        if (box.w >= 1 && box.h >= 1) this.fillShape(box, this.tool === "ellipse", erase);
        else this.dropCheckpoint();
      }
      this.stroke = null;
    },
    leave() {
      this.cursor = null;
    },
    pinchState() {
      const [a, b] = [...this.pointers.values()];
      return { dist: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)), cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, view: { ...this.view } };
    },
    abandonStroke() {
      // the first finger of a pinch started a stroke: take it back
      if (this.stroke || this.shape) {
        this.stroke = null;
        this.shape = null;
        this.mask = markRaw(this.undoStack.pop());
        this.undoCount = this.undoStack.length;
        this.flush(0, 0, this.width, this.height);
      }
      this.panning = false;
    },
    dropCheckpoint() {
      this.undoStack.pop();
      this.undoCount = this.undoStack.length;
    },

    // ---- keyboard -------------------------------------------------------------------------
    keydown(e) {
      e.stopPropagation(); // the node graph behind the dialog must not act on these keys
      const el = e.target;
      if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA") && el.type !== "range") return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "z") { e.preventDefault(); e.shiftKey ? this.redo() : this.undo(); }
      else if (mod && key === "y") { e.preventDefault(); this.redo(); }
      else if (mod && key === "s") { e.preventDefault(); this.save(); }
      else if (mod && key === "i") { e.preventDefault(); this.invert(); }
      else if (e.key === "Escape") this.cancel();
      else if (e.key === " ") { e.preventDefault(); this.spaceDown = true; }
      else if (e.key === "[") this.size = Math.max(1, Math.round(this.size / 1.2));
      else if (e.key === "]") this.size = Math.min(1000, Math.round(this.size * 1.2 + 1));
      else if (key === "f" && !mod) this.fit();
      else if (!mod) {
        const tool = TOOLS.find((t) => t.key === key);
        if (tool) this.tool = tool.id;
      }
    },

    // ---- leaving --------------------------------------------------------------------------
    cancel() {
      if (!this.saving) this.$emit("cancel");
    },
    async save() {
      if (this.saving || !this.image || !this.ready) return;
      this.saving = true;
      this.error = null;
      try {
        const blob = await this.png();
        const s = this.spec;
        const url = `/flowbanana/mask?tab=${encodeURIComponent(s.token)}&node=${encodeURIComponent(s.node)}` +
          `&param=${encodeURIComponent(s.param)}`;
        const response = await fetch(url, { method: "POST", body: blob, headers: { "Content-Type": "image/png" } });
        if (!response.ok) throw new Error(await response.text());
      } catch (err) {
        this.error = "Not saved: " + (err.message || err);
        this.saving = false;
      }
    },
    // The mask as a greyscale picture: white = change, black = keep.
    png() {
      const canvas = document.createElement("canvas");
      canvas.width = this.width;
      canvas.height = this.height;
      const c = canvas.getContext("2d");
      const data = c.createImageData(this.width, this.height);
      const out = data.data, m = this.mask;
      for (let i = 0; i < m.length; i++) {
        const o = i * 4;
        out[o] = out[o + 1] = out[o + 2] = m[i];
        out[o + 3] = 255;
      }
      c.putImageData(data, 0, 0);
      return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the browser could not encode the PNG"))), "image/png"));
    },
  },
  template: `
  <div class="fbm-root" v-if="spec">
    <div class="fbm-bar">
      <div class="fbm-title"><q-icon name="brush" size="18px" class="fbm-accent"></q-icon><span>Paint mask</span>
        <span class="fbm-sub">{{ spec.title }}</span></div>
      <div v-if="image" class="fbm-tools">
        <div class="fbm-group">
          <button v-for="t in tools" :key="t.id" class="fbm-tool" :class="{'fbm-on': tool === t.id}" :data-tool="t.id"
                  :title="t.label + ' (' + t.key.toUpperCase() + ')'" @click="tool = t.id"><q-icon :name="t.icon" size="19px"></q-icon></button>
        </div>
        <label class="fbm-field" title="Brush size in image pixels ([ and ])">Size
          <input type="range" min="1" max="500" v-model.number="size" data-testid="mask-size"><span class="fbm-num">{{ size }}</span></label>
        <label class="fbm-field" title="Hard edge (100%) or soft (0%)">Hardness
          <input type="range" min="0" max="1" step="0.05" v-model.number="hardness"><span class="fbm-num">{{ Math.round(hardness * 100) }}%</span></label>
        <div class="fbm-group">
          <button class="fbm-tool" title="Undo (Ctrl+Z)" :disabled="!undoCount" @click="undo"><q-icon name="undo" size="19px"></q-icon></button>
          <button class="fbm-tool" title="Redo (Ctrl+Shift+Z)" :disabled="!redoCount" @click="redo"><q-icon name="redo" size="19px"></q-icon></button>
          <button class="fbm-tool" title="Invert: swap change and keep (Ctrl+I)" data-testid="mask-invert" @click="invert"><q-icon name="invert_colors" size="19px"></q-icon></button>
          <button class="fbm-tool" title="Clear the mask" data-testid="mask-clear" @click="clear"><q-icon name="layers_clear" size="19px"></q-icon></button>
        </div>
        <div class="fbm-group fbm-swatches" title="Overlay colour">
          <button v-for="c in colours" :key="c" class="fbm-swatch" :class="{'fbm-on': colour === c}" :style="{background: c}" @click="colour = c"></button>
          <input type="color" class="fbm-picker" v-model="colour" title="Any colour">
        </div>
        <label class="fbm-field" title="How strongly the overlay shows">Opacity
          <input type="range" min="0.1" max="1" step="0.05" v-model.number="opacity"><span class="fbm-num">{{ Math.round(opacity * 100) }}%</span></label>
      </div>
      <span v-else class="fbm-spacer"></span>
      <span v-if="error" class="fbm-error">{{ error }}</span>
      <button class="fbm-btn" data-testid="mask-cancel" @click="cancel">Cancel</button>
      <button v-if="image" class="fbm-btn fbm-primary" data-testid="mask-save" :disabled="saving" @click="save">
        <q-spinner v-if="saving" size="14px"></q-spinner>{{ saving ? 'Saving…' : 'Save mask' }}</button>
    </div>
    <div ref="stage" class="fbm-stage" :style="{cursor: stageCursor}" @pointerdown="down" @pointermove="move"
         @pointerup="up" @pointercancel="up" @pointerleave="leave" @wheel="wheel" @contextmenu.prevent>
      <template v-if="image">
        <div class="fbm-world" :class="{'fbm-pixelated': view.zoom > 2}" :style="worldStyle">
          <img class="fbm-picture" :src="image.full" :width="width" :height="height" draggable="false" alt="">
          <canvas ref="overlay" class="fbm-overlay" data-testid="mask-canvas" :style="{opacity}"></canvas>
          <svg v-if="shapeBox" class="fbm-shape" :width="width" :height="height">
            <rect v-if="tool === 'rect'" :x="shapeBox.x" :y="shapeBox.y" :width="shapeBox.w" :height="shapeBox.h"></rect>
            <ellipse v-else :cx="shapeBox.x + shapeBox.w / 2" :cy="shapeBox.y + shapeBox.h / 2" :rx="shapeBox.w / 2" :ry="shapeBox.h / 2"></ellipse>
          </svg>
        </div>
        <div v-if="brushRing" class="fbm-ring" :class="{'fbm-ring-erase': tool === 'eraser'}" :style="brushRing"></div>
        <div class="fbm-zoombar" @pointerdown.stop>
          <button class="fbm-tool" title="Zoom out" @click="zoomBy(1 / 1.25)"><q-icon name="remove" size="18px"></q-icon></button>
          <span class="fbm-num fbm-zoom">{{ Math.round(view.zoom * 100) }}%</span>
          <button class="fbm-tool" title="Zoom in" @click="zoomBy(1.25)"><q-icon name="add" size="18px"></q-icon></button>
          <button class="fbm-tool" title="Fit (F)" @click="fit"><q-icon name="fit_screen" size="18px"></q-icon></button>
        </div>
      </template>
      <div v-else class="fbm-empty" data-testid="mask-no-image">
        <q-icon name="image_not_supported" size="44px" color="grey-6"></q-icon>
        <div class="fbm-empty-title">No picture to paint over yet</div>
        <div class="fbm-empty-text" v-if="spec.source">The mask is painted over the image linked into this node.
          Run <b>{{ spec.source }}</b> once so the editor has it.</div>
        <div class="fbm-empty-text" v-else>Link an image (for example from Load image) into this node's <b>image</b> input,
          so the mask is painted over it at its size.</div>
        <button v-if="spec.source" class="fbm-btn fbm-primary" data-testid="mask-run" @click="$emit('run')">
          <q-icon name="play_arrow" size="18px"></q-icon>Run {{ spec.source }} and paint</button>
      </div>
    </div>
    <div class="fbm-status" v-if="image">
      <span>{{ width }} × {{ height }} px</span>
      <span>{{ (painted * 100).toFixed(painted > 0 && painted < 0.001 ? 2 : 1) }}% marked to change</span>
      <span class="fbm-spacer"></span>
      <span class="fbm-hint">White = change. Alt or the pen's eraser removes · Shift draws a square or circle · Space pans · wheel zooms</span>
    </div>
  </div>`,
};
