// Before/after: the result with its input laid over it, cut at a slider you drag across.
// Both pictures come by URL from the editor's media store; the input is stretched to the result's box,
// which for an inpaint is the same size and for an edit the same picture at the model's size.
export default {
  props: { spec: Object },
  data() {
    return { split: 50 };
  },
  watch: {
    spec() {
      this.split = 50;
    },
  },
  mounted() {
    this.onKey = (e) => {
      e.stopPropagation(); // keep Delete and Ctrl+Z away from the graph behind
      if (e.key === "ArrowLeft") this.split = Math.max(0, this.split - 5);
      else if (e.key === "ArrowRight") this.split = Math.min(100, this.split + 5);
      else if (e.key === "Escape") this.$emit("close");
    };
    window.addEventListener("keydown", this.onKey, true);
    window.flowbananaCompare = this; // for tests
  },
  unmounted() {
    window.removeEventListener("keydown", this.onKey, true);
    if (window.flowbananaCompare === this) window.flowbananaCompare = null;
  },
  methods: {
    down(e) {
      this.$refs.pair.setPointerCapture(e.pointerId);
      this.dragging = true;
      this.follow(e);
    },
    follow(e) {
      if (!this.dragging) return;
      const r = this.$refs.pair.getBoundingClientRect();
      this.split = Math.max(0, Math.min(100, ((e.clientX - r.left) / r.width) * 100));
    },
    up() {
      this.dragging = false;
    },
  },
  template: `
  <div class="fbm-root" v-if="spec">
    <div class="fbm-bar">
      <div class="fbm-title"><q-icon name="compare" size="18px" class="fbm-accent"></q-icon><span>Before / after</span>
        <span class="fbm-sub">{{ spec.title }}</span></div>
      <span v-if="spec.caption" class="fbm-sub" style="max-width: 40vw; overflow: hidden; text-overflow: ellipsis; white-space: nowrap"
            :title="spec.caption">“{{ spec.caption }}”</span>
      <span class="fbm-spacer"></span>
      <label class="fbm-field">Split
        <input type="range" min="0" max="100" step="0.5" v-model.number="split" data-testid="compare-slider">
        <span class="fbm-num">{{ Math.round(split) }}%</span></label>
      <button class="fbm-btn fbm-primary" data-testid="compare-close" @click="$emit('close')">Close</button>
    </div>
    <div class="fbc-frame">
      <div ref="pair" class="fbc-pair" data-testid="compare" @pointerdown="down" @pointermove="follow" @pointerup="up" @pointercancel="up">
        <img :src="spec.after.full" draggable="false" alt="after">
        <img class="fbc-before" :src="spec.before.full" draggable="false" alt="before"
             :style="{clipPath: 'inset(0 ' + (100 - split) + '% 0 0)'}">
        <div class="fbc-handle" :style="{left: split + '%'}"><div class="fbc-knob"><q-icon name="code" size="20px"></q-icon></div></div>
        <span class="fbc-label fbc-label-before" :style="{opacity: split > 8 ? 1 : 0}">Before · {{ spec.before.width }}×{{ spec.before.height }}</span>
        <span class="fbc-label fbc-label-after" :style="{opacity: split < 92 ? 1 : 0}">After · {{ spec.after.width }}×{{ spec.after.height }}</span>
      </div>
    </div>
    <div class="fbm-status"><span>Drag across the picture, or use ← →.</span></div>
  </div>`,
};
