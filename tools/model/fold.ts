/**
 * Inference-only simplification of a trained graph, for the browser: every batch normalisation is
 * folded into the convolution before it, a ReLU right after a convolution or dense layer becomes
 * that layer's activation, and dropout (identity at inference) is removed. On WebGL each layer is
 * at least one shader pass, so the student runs in about half the passes, with the same outputs up
 * to float rounding.
 */
import * as tf from '@tensorflow/tfjs';

type InboundNode = [string, number, number, Record<string, unknown>];
interface LayerJson { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: InboundNode[][] }
interface ModelJson { class_name: string; config: { name: string; layers: LayerJson[]; input_layers: unknown[]; output_layers: [string, number, number][] }; [k: string]: unknown }

export interface FoldSummary { batchNorms: number; activations: number; dropouts: number }

/** The layer's single input layer name, or null when it has several inputs or several call sites. */
function soleInput(layer: LayerJson): string | null {
  return layer.inbound_nodes.length === 1 && layer.inbound_nodes[0].length === 1 ? layer.inbound_nodes[0][0][0] : null;
}

/** Folds a model into a new one (the input model is left as it is). */
export async function foldForInference(model: tf.LayersModel): Promise<{ model: tf.LayersModel; summary: FoldSummary }> {
  const json = model.toJSON(null, false) as unknown as ModelJson;
  const layers = json.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const outputs = new Set(json.config.output_layers.map((o) => o[0]));
  const consumers = (name: string) => layers.filter((l) => l.inbound_nodes.some((node) => node.some((n) => n[0] === name)));
  const removed = new Map<string, string>(); // removed layer -> the layer that now stands for it
  const folds = new Map<string, string>(); // conv -> its batch norm
  const summary: FoldSummary = { batchNorms: 0, activations: 0, dropouts: 0 };

  // Only a layer with exactly one consumer, which is not a model output, can be merged forward.
  const onlyConsumer = (name: string): LayerJson | null => {
    if (outputs.has(name)) return null;
    const c = consumers(name);
    return c.length === 1 && soleInput(c[0]) === name ? c[0] : null;
  };
  const isPlainRelu = (l: LayerJson | null) => !!l && (
    (l.class_name === 'ReLU' && (l.config.max_value ?? null) === null && !l.config.threshold && !l.config.negative_slope)
    || (l.class_name === 'Activation' && l.config.activation === 'relu'));

  for (const layer of layers) {
    if (removed.has(layer.name)) continue;
    if (layer.class_name === 'Dropout') {
      removed.set(layer.name, soleInput(layer)!);
      summary.dropouts++;
      continue;
    }
    if ((layer.class_name !== 'Conv2D' && layer.class_name !== 'Dense') || layer.config.activation !== 'linear') continue;
    let last = layer.name;
    let next = onlyConsumer(last);
    if (layer.class_name === 'Conv2D' && next?.class_name === 'BatchNormalization' && (next.config.axis === -1 || next.config.axis === 3)) {
      folds.set(layer.name, next.name);
      removed.set(next.name, layer.name);
      layer.config.use_bias = true;
      summary.batchNorms++;
      last = next.name;
      next = onlyConsumer(last);
    }
    if (isPlainRelu(next)) {
      removed.set(next!.name, layer.name);
      layer.config.activation = 'relu';
      summary.activations++;
    }
  }

  const resolveName = (name: string): string => (removed.has(name) ? resolveName(removed.get(name)!) : name);
  json.config.layers = layers.filter((l) => !removed.has(l.name)).map((l) => ({
    ...l,
    inbound_nodes: l.inbound_nodes.map((node) => node.map(([n, i, t, kw]) => [resolveName(n), removed.has(n) ? 0 : i, removed.has(n) ? 0 : t, kw] as InboundNode)),
  }));
  json.config.output_layers = json.config.output_layers.map(([n, i, t]) => [resolveName(n), i, t]);

  const folded = await tf.models.modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] });
  for (const layer of folded.layers) {
    const source = model.getLayer(layer.name);
    const bn = folds.get(layer.name);
    const weights = bn ? foldWeights(source.getWeights(), model.getLayer(bn), byName.get(bn)!.config) : source.getWeights();
    if (weights.length) layer.setWeights(weights);
    if (bn) tf.dispose(weights);
  }
  return { model: folded, summary };
}

/** Conv weights [kernel, bias?] with the batch norm after them folded in: returns [kernel', bias']. */
function foldWeights(conv: tf.Tensor[], bn: tf.layers.Layer, config: Record<string, unknown>): tf.Tensor[] {
  return tf.tidy(() => {
    const bnWeights = bn.getWeights();
    let k = 0;
    const gamma = config.scale === false ? null : bnWeights[k++];
    const beta = config.center === false ? null : bnWeights[k++];
    const [mean, variance] = [bnWeights[k], bnWeights[k + 1]];
    const scale = tf.div(gamma ?? tf.onesLike(mean), tf.sqrt(tf.add(variance, config.epsilon as number)));
    const kernel = tf.mul(conv[0], scale); // broadcasts over the last (output channel) axis
    const bias = tf.add(tf.mul(tf.sub(conv[1] ?? tf.zerosLike(mean), mean), scale), beta ?? tf.zerosLike(mean));
    return [kernel, bias];
  });
}
