/**
 * OpenCV's new-style cascade XML (`<cascade type_id="opencv-cascade-classifier">`, as written by
 * opencv_traincascade and shipped in opencv-data's `haarcascades/`), parsed into flat typed arrays
 * for the evaluator in ./haar.ts. Only stageType BOOST with featureType HAAR and upright features
 * is supported; anything else is refused with FerkitError('E_MODEL', '<path>: ...').
 *
 * Host-neutral: this parses XML text (`parseHaarCascade`); reading the file is the host's job
 * (loadHaarCascade in src/node/haar.ts, a fetch in src/browser/analyzer.ts).
 */
import { FerkitError } from '../errors.js';

/** Where Debian/Ubuntu's `opencv-data` package installs the paper's frontal-face cascade. */
export const DEFAULT_HAAR_CASCADE_PATH = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml';

/** OpenCV subtracts this from every stage threshold when it loads a cascade (cascadedetect.cpp). */
export const STAGE_THRESHOLD_EPS = 1e-5;

/**
 * A parsed cascade. Trees are binary decision trees over Haar features; a node's `left`/`right`
 * index is a node of the same tree when > 0, else `-value` is a leaf of that tree (OpenCV's layout).
 */
export interface HaarCascade {
  /** The path (or label) the XML came from, for messages. */
  readonly source: string;
  /** The training window, 24×24 for the frontal-face cascades. */
  readonly width: number;
  readonly height: number;
  /** Per stage: threshold (already minus STAGE_THRESHOLD_EPS), first tree, tree count. */
  readonly stageThreshold: Float64Array;
  readonly stageFirstTree: Int32Array;
  readonly stageTreeCount: Int32Array;
  /** Per tree: first node, first leaf. */
  readonly treeFirstNode: Int32Array;
  readonly treeFirstLeaf: Int32Array;
  /** Per node: feature index, threshold, left, right. */
  readonly nodeFeature: Int32Array;
  readonly nodeThreshold: Float64Array;
  readonly nodeLeft: Int32Array;
  readonly nodeRight: Int32Array;
  readonly leaves: Float64Array;
  /** Per feature, 3 rects (unused ones have weight 0): x, y, w, h at [f*12 + r*4 ...], weight at [f*3 + r]. */
  readonly featureRects: Int32Array;
  readonly featureWeights: Float64Array;
  /** True when every tree is a single node (a stump), as in haarcascade_frontalface_default.xml. */
  readonly stumpsOnly: boolean;
}

// ---------------------------------------------------------------------------------------------
// A minimal XML reader: elements, attributes (ignored), text, comments, <?...?> and <!...> skipped.
// OpenCV's FileStorage XML is this simple; no entities other than the five predefined ones appear.

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) =>
    e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : "'",
  );
}

function parseXml(xml: string, source: string): XmlElement {
  const bad = (what: string, at: number): never => {
    const line = xml.slice(0, at).split('\n').length;
    throw new FerkitError('E_MODEL', `${source}: not a cascade XML file (${what} at line ${line})`);
  };
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const top = stack[stack.length - 1];
      const text = xml.slice(i, textEnd);
      if (stack.length === 1) {
        if (text.trim() !== '') bad('text outside the root element', i);
      } else top.text += decodeEntities(text);
    }
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end < 0) bad('unterminated comment', lt);
      i = end + 3;
    } else if (xml.startsWith('<?', lt)) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) bad('unterminated declaration', lt);
      i = end + 2;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end < 0) bad('unterminated CDATA', lt);
      stack[stack.length - 1].text += xml.slice(lt + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<!', lt)) {
      const end = xml.indexOf('>', lt + 2);
      if (end < 0) bad('unterminated declaration', lt);
      i = end + 1;
    } else {
      const gt = xml.indexOf('>', lt + 1);
      if (gt < 0) bad('unterminated tag', lt);
      const tag = xml.slice(lt + 1, gt);
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim();
        const top = stack.pop();
        if (!top || stack.length === 0 || top.name !== name) bad(`unexpected </${name}>`, lt);
      } else {
        const selfClosing = tag.endsWith('/');
        const m = /^([A-Za-z_][\w.:-]*)/.exec(tag);
        if (!m) bad('malformed tag', lt);
        const el: XmlElement = { name: m![1], children: [], text: '' };
        stack[stack.length - 1].children.push(el);
        if (!selfClosing) stack.push(el);
      }
      i = gt + 1;
    }
  }
  if (stack.length !== 1) bad(`unclosed <${stack[stack.length - 1].name}>`, n);
  if (root.children.length === 0) bad('no root element', 0);
  return root;
}

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

// ---------------------------------------------------------------------------------------------

/** Parse the text of an OpenCV cascade XML file. `source` names it in error messages. */
export function parseHaarCascade(xml: string, source: string): HaarCascade {
  const fail = (msg: string): never => {
    throw new FerkitError('E_MODEL', `${source}: ${msg}`);
  };
  const doc = parseXml(xml, source);
  const storage = doc.children[0];
  if (storage.name !== 'opencv_storage') fail(`not an OpenCV cascade file (root element <${storage.name}>)`);
  const cascade = child(storage, 'cascade') ?? storage.children[0];
  if (!cascade) fail('no <cascade> element');
  if (!child(cascade, 'stageType')) {
    // Old-style files (type_id="opencv-haar-classifier") have <size> and <trees> instead.
    fail(
      `old-style Haar cascade (<${cascade.name}>) is not supported; use a new-style file as written by ` +
        'opencv_traincascade (e.g. haarcascade_frontalface_default.xml)',
    );
  }
  const str = (el: XmlElement, name: string): string => {
    const c = child(el, name);
    if (!c) fail(`missing <${name}>`);
    return c!.text.trim();
  };
  const int = (el: XmlElement, name: string): number => {
    const v = Number(str(el, name));
    if (!Number.isInteger(v)) fail(`<${name}> is not an integer`);
    return v;
  };
  const numbers = (text: string, what: string): number[] => {
    const t = text.trim();
    if (t === '') return [];
    const out = t.split(/\s+/).map(Number);
    if (out.some((v) => !Number.isFinite(v))) fail(`${what}: not a list of numbers`);
    return out;
  };

  const stageType = str(cascade, 'stageType');
  if (stageType !== 'BOOST') fail(`stageType ${stageType} is not supported (only BOOST)`);
  const featureType = str(cascade, 'featureType');
  if (featureType !== 'HAAR') fail(`featureType ${featureType} is not supported (only HAAR)`);
  const width = int(cascade, 'width');
  const height = int(cascade, 'height');
  if (width <= 2 || height <= 2) fail(`window ${width}x${height} is too small`);
  const featureParams = child(cascade, 'featureParams');
  if (featureParams && child(featureParams, 'maxCatCount') && int(featureParams, 'maxCatCount') !== 0) {
    fail('categorical features (maxCatCount > 0) are not supported');
  }

  // Features first, so node feature indices can be checked.
  const featuresEl = child(cascade, 'features');
  if (!featuresEl || featuresEl.children.length === 0) fail('no <features>');
  const nFeatures = featuresEl!.children.length;
  const featureRects = new Int32Array(nFeatures * 12);
  const featureWeights = new Float64Array(nFeatures * 3);
  featuresEl!.children.forEach((f, fi) => {
    const tilted = child(f, 'tilted');
    if (tilted && Number(tilted.text.trim()) !== 0) {
      fail(`feature ${fi} is tilted (45° Haar features are not supported)`);
    }
    const rects = child(f, 'rects');
    if (!rects || rects.children.length < 1 || rects.children.length > 3) {
      fail(`feature ${fi} must have 1 to 3 <rects>`);
    }
    rects!.children.forEach((r, ri) => {
      const v = numbers(r.text, `feature ${fi} rect ${ri}`);
      if (v.length !== 5) fail(`feature ${fi} rect ${ri}: expected "x y w h weight", got "${r.text.trim()}"`);
      const [x, y, w, h, weight] = v;
      if (
        ![x, y, w, h].every(Number.isInteger) ||
        x < 0 ||
        y < 0 ||
        w < 0 ||
        h < 0 ||
        x + w > width ||
        y + h > height
      ) {
        fail(`feature ${fi} rect ${ri} (${x} ${y} ${w} ${h}) is outside the ${width}x${height} window`);
      }
      featureRects.set([x, y, w, h], fi * 12 + ri * 4);
      featureWeights[fi * 3 + ri] = Math.fround(weight);
    });
  });

  const stagesEl = child(cascade, 'stages');
  if (!stagesEl || stagesEl.children.length === 0) fail('no <stages>');
  const nStages = stagesEl!.children.length;
  const stageThreshold = new Float64Array(nStages);
  const stageFirstTree = new Int32Array(nStages);
  const stageTreeCount = new Int32Array(nStages);
  const treeFirstNode: number[] = [];
  const treeFirstLeaf: number[] = [];
  const nodeFeature: number[] = [];
  const nodeThreshold: number[] = [];
  const nodeLeft: number[] = [];
  const nodeRight: number[] = [];
  const leaves: number[] = [];
  let stumpsOnly = true;
  stagesEl!.children.forEach((stage, si) => {
    const thr = Number(str(stage, 'stageThreshold'));
    if (!Number.isFinite(thr)) fail(`stage ${si}: bad stageThreshold`);
    stageThreshold[si] = Math.fround(Math.fround(thr) - STAGE_THRESHOLD_EPS); // Stage::threshold is a float
    const weak = child(stage, 'weakClassifiers');
    if (!weak || weak.children.length === 0) fail(`stage ${si}: no <weakClassifiers>`);
    stageFirstTree[si] = treeFirstNode.length;
    stageTreeCount[si] = weak!.children.length;
    weak!.children.forEach((tree, ti) => {
      const where = `stage ${si} tree ${ti}`;
      const nodes = numbers(str(tree, 'internalNodes'), `${where} internalNodes`);
      const leafValues = numbers(str(tree, 'leafValues'), `${where} leafValues`);
      if (nodes.length === 0 || nodes.length % 4 !== 0) {
        fail(`${where}: internalNodes must be groups of "left right featureIdx threshold"`);
      }
      const nNodes = nodes.length / 4;
      if (leafValues.length !== nNodes + 1)
        fail(`${where}: expected ${nNodes + 1} leafValues, got ${leafValues.length}`);
      if (nNodes > 1) stumpsOnly = false;
      treeFirstNode.push(nodeFeature.length);
      treeFirstLeaf.push(leaves.length);
      for (let k = 0; k < nNodes; k++) {
        const [left, right, fi, t] = nodes.slice(k * 4, k * 4 + 4);
        const okChild = (c: number) => Number.isInteger(c) && (c > 0 ? c < nNodes : -c < leafValues.length);
        if (!okChild(left) || !okChild(right)) fail(`${where} node ${k}: bad child index`);
        if (!Number.isInteger(fi) || fi < 0 || fi >= nFeatures)
          fail(`${where} node ${k}: feature ${fi} does not exist`);
        nodeLeft.push(left);
        nodeRight.push(right);
        nodeFeature.push(fi);
        nodeThreshold.push(Math.fround(t));
      }
      for (const v of leafValues) leaves.push(Math.fround(v));
    });
  });

  return {
    source,
    width,
    height,
    stageThreshold,
    stageFirstTree,
    stageTreeCount,
    treeFirstNode: Int32Array.from(treeFirstNode),
    treeFirstLeaf: Int32Array.from(treeFirstLeaf),
    nodeFeature: Int32Array.from(nodeFeature),
    nodeThreshold: Float64Array.from(nodeThreshold),
    nodeLeft: Int32Array.from(nodeLeft),
    nodeRight: Int32Array.from(nodeRight),
    leaves: Float64Array.from(leaves),
    featureRects,
    featureWeights,
    stumpsOnly,
  };
}
