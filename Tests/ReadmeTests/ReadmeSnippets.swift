// swift-format-ignore-file
// (the regions keep the README's layout: aligned comments, long lines)
// The README's Swift snippets as compiled code: each region between `// README snippet: NAME` and
// `// README snippet end` is the README's block (its `import` lines are at the top of this file; `/* … */` stands
// for the README's `…`). `ReadmeTests` checks that the two are the same, so the README cannot show code that does
// not compile. The free names of a snippet (a model folder, a batch) are the parameters of its function; most are
// only compiled, the module one also runs.
import ChatTemplates
import Distributed
import Generation
import LoRA
import Models
import NN
import Optim
import Tokenizers
import Torch
import Training

func readmeTour(
  q: Tensor, k: Tensor, v: Tensor, modelDir: String, question: String, context: String, llamaDir: String,
  prompt: String, generated: [Int]
) throws {
  // README snippet: tour
  let x = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])      // from a Swift array
  let w = try Tensor.randn([2, 3]).requiresGrad_()                // leaf with autograd
  let y = try x.matmul(w).relu()                                 // named ops throw libtorch's error
  let loss = try (y * y).mean()                                   // operators broadcast like PyTorch
  try loss.backward()
  print(w.grad!)                                                  // tensor([[...]]) like PyTorch's repr

  let z = try Tensor.arange(12).reshape(3, 4)
  print(z[1, 1..<3])                                              // tensor([5, 6])
  print(z[z .> 8])                                                // boolean mask: tensor([ 9, 10, 11])
  z[0, TensorIndex.all] = try Tensor([0, 0, 0, 0] as [Int])       // index assignment, in place

  let probs = try Tensor.randn([4, 10]).softmax(dim: -1)
  let attn = try F.scaledDotProductAttention(q, k, v, isCausal: true)   // fused kernels
  let out = withNoGrad { x * 2 }                                  // torch.no_grad()
  let gpu = try x.to(device: .cuda(0))                            // throws a clear error without CUDA

  try Torch.saveSafetensors(["w": w], to: "w.safetensors")        // Python's safetensors reads it
  let back = try Torch.loadSafetensors("w.safetensors")           // memory-mapped, one copy

  var tokenizer = try Tokenizer(directory: modelDir)              // tokenizer.json (or vocab.txt)
  try tokenizer.setTruncation(Truncation(maxLength: 384, strategy: .onlySecond, stride: 128))
  let enc = try tokenizer.encode(question, pair: context)          // ids, typeIds, attentionMask, offsets, wordIds
  let windows = [enc] + enc.overflowing                            // the rest of the context, 128 tokens overlap

  let llama = try Tokenizer(directory: llamaDir)                   // BPE: GPT-2, Llama 2/3, Mistral, Qwen2 tokenizer.json
  let ids = try llama.encode(prompt).ids                           // BOS from the template, special tokens kept whole
  var stream = StreamingDecoder(tokenizer: llama)                  // HF DecodeStream: never half a UTF-8 character
  for id in generated { if let piece = stream.step(id) { print(piece, terminator: "") } }
  // README snippet end
}

func readmeModule() throws -> [String] {
  // README snippet: module
  final class Classifier: Module {
    @ModuleInfo var encoder: TransformerEncoder                   // key "encoder": the property's name
    @ModuleInfo(key: "out_proj") var outProj: Linear              // key as PyTorch spells it
    @ModuleInfo var norm: LayerNorm?                              // nil: absent, as `self.norm = None`

    init(dModel: Int, classes: Int) throws {
      super.init()
      let layer = try TransformerEncoderLayer(dModel: dModel, nhead: 4, batchFirst: true)
      encoder = try TransformerEncoder(encoderLayer: layer, numLayers: 2)
      outProj = try Linear(inFeatures: dModel, outFeatures: classes)
      norm = nil
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {            // [B, T, E] → [B, C]
      try outProj(try encoder(x).mean(dim: 1))
    }
  }
  let model = try Classifier(dModel: 64, classes: 3)
  let keys = try model.orderedStateDict().map(\.0)  // encoder.layers.0.self_attn.in_proj_weight, …, out_proj.weight: torch's order
  // README snippet end
  return keys
}

func readmeAMP<M: Module>(
  model: M, lossOf: @escaping (M, [Tensor]) throws -> Tensor, batch: [Tensor], ids: Tensor, labels: Tensor,
  nextIds: Tensor,
  nextLabels: Tensor, projected: Tensor, hidden: Tensor, ln: LayerNorm, linear1: Linear, x: Tensor, w: Tensor
) throws {
  // README snippet: amp
  let optimizer = try AdamW(model.parameters(), lr: 2e-5)               // fused kernels by default
  let scaler = GradScaler()                                             // 65536, ×2 per 2000 clean steps, ×0.5 on inf
  let loss = try withAutocast(.float16, device: .cuda(0)) { try lossOf(model, batch) }
  try scaler.scale(loss).backward()
  try scaler.unscale(model.parameters())                                // optional: before clipping
  try clipGradNorm(model.parameters(), maxNorm: 1)
  try scaler.step(optimizer)        // fused AdamW takes the scale and the overflow flag on the GPU: no sync
  try scaler.update()               // `scaler.lastStepSkipped` asks (and syncs) whether the step was skipped
  // A whole step captured once and replayed (torch.compile(mode="reduce-overhead")): warm-up on a side stream,
  // capture, then each call copies the batch in and replays; CPU inputs, a failed capture or another batch
  // shape run eagerly (`step.mode` says why). Inside: autocast with `cacheEnabled: false`, no `item()`.
  let step = try CUDAGraphStep(example: [ids, labels]) { batch in
    try optimizer.zeroGrad()
    let loss = try withAutocast(.bfloat16, device: .cuda(0), cacheEnabled: false) { try lossOf(model, batch) }
    try loss.backward()
    try optimizer.step()
    return [loss]
  }
  let stepLoss = try step([nextIds, nextLabels])[0]                     // overwritten by the next call

  // Transformer tails as one CUDA kernel each (compiled on first use by NVRTC, the copy in torch's wheels);
  // BERT and TransformerEncoderLayer use them on CUDA, eager ops elsewhere. FusedKernels.isEnabled = false
  // (or TORCHSWIFT_FUSED_KERNELS=0) turns them off.
  let h = try F.dropoutAddLayerNorm(projected, residual: hidden, weight: ln.weight, bias: ln.bias, p: 0.1, training: true)
  let a = try F.activationDropout(try linear1(h), activation: .relu, p: 0.1, training: true)
  // F.linear with a bias that needs its gradient: cuBLAS as at::linear, the bias gradient summed by a fused kernel.

  let side = try CUDAStream(device: 0)                                  // torch.cuda.Stream
  try side.wait(try CUDAStream.current())                               // wait_stream
  let done = try CUDAEvent(enableTiming: true)
  let y = try withStream(side) { try x.matmul(w) }                      // with torch.cuda.stream(side):
  try done.record(on: side)
  try CUDAStream.current().wait(done)                                   // the main stream waits on the GPU
  try y.recordStream(try CUDAStream.current())                          // y's memory is safe until that stream is done
  // README snippet end
}

func readmeProfiler(step: ([Tensor]) throws -> Tensor, batch: [Tensor], batches: [[Tensor]]) throws {
  // README snippet: profiler
  let (loss, profile) = try Profiler.profile { try step(batch) }      // .cpu, plus .cuda when a GPU is present
  print(profile.table(sortBy: .deviceTotal, rowLimit: 15))              // key_averages().table(...)
  try profile.exportChromeTrace(to: "trace.json")                      // export_chrome_trace
  try profile.exportTensorBoardTrace(logdir: "runs/profile")            // tensorboard_trace_handler's file
  let mm = profile.keyAverages().first { $0.name == "aten::mm" }        // count, totalUs, selfUs
  // profile(schedule=schedule(wait=1, warmup=1, active=3), on_trace_ready=tensorboard_trace_handler(...)):
  let session = ProfilerSession(schedule: try ProfilerSchedule(wait: 1, warmup: 1, active: 3, repeat: 1)) {
    try $0.exportTensorBoardTrace(logdir: "runs/profile")
  }
  try session.start()
  for batch in batches {
    try Profiler.recordFunction("train_step") { try step(batch) }     // record_function
    try session.step()                                                 // prof.step()
  }
  try session.stop()
  // README snippet end
}

func readmeClassifier(texts: [String], labelIds: [Int], sentenceTransformer: SentenceTransformer) throws {
  // README snippet: classifier
  let classifier = try TextClassifier.fromPretrained("out/model", device: .cuda(0), precision: .bf16)
  for p in try classifier.predict(["great flight", "lost my bag again"]) {
    print(p.label, p.scores, p.logits)   // "positive", the pipeline's scores by label id (softmax; sigmoid for
  }                                      // multi-label or one-label models; the logits for regression), logits
  let examples = try classifier.encode(texts, labels: labelIds)
  let (metrics, loss) = try classifier.evaluate(examples)  // accuracy, macro-F1, per class, confusion matrix
  try sentenceTransformer.encode(texts).saveNPY(to: "embeddings.npy")   // numpy.load reads it
  // README snippet end
}

func readmeGeneration() async throws {
  // README snippet: generation
  let lm = try CausalLM(contentsOf: "models/Llama-3.2-1B-Instruct", device: .cuda(0))   // dtype: the model's 16-bit one on CUDA
  var config = lm.generationConfig          // generation_config.json (eos ids, sampling defaults)
  config.maxNewTokens = 128
  print(try lm.generate(prompt: "The capital of France is", config: config).text)

  // Streaming: pieces never split a UTF-8 character and never contain a stop string.
  for try await piece in try lm.stream(prompt: "Once upon a time", config: config) { print(piece, terminator: "") }

  // Chat: the folder's Jinja chat template, rendered as transformers' apply_chat_template.
  let reply = try lm.chat([.system("Be brief."), .user("What is a tensor?")], config: config)

  // Batched: left padding, each row stops on its own; token-level API underneath.
  let result = try TokenGenerator(model: lm.model).generate(prompts: [[1, 2, 3], [4, 5]], config: config)
  // README snippet end
}

func readmeLoRA(dir: String) throws {
  // README snippet: lora
  let model = try AutoModelForCausalLM.fromPretrained(dir).model
  let lora = LoRAConfig(r: 8, loraAlpha: 16, targetModules: .names(["q_proj", "v_proj"]), taskType: "CAUSAL_LM")
  try LoRA.apply(lora, to: model)                       // base frozen; adapters (and modules_to_save) train
  let trainer = try CausalLMTrainer(model: model, config: CausalLMTrainingConfig())
  let examples = try CausalLMData.chatJSONL("chats.jsonl", template: ChatTemplate(directory: dir),
                                            tokenizer: Tokenizer(directory: dir), maxLength: 1024)
  _ = try trainer.train(examples)
  try LoRA.save(model, config: lora, to: "adapter")     // or LoRA.mergeAndUnload(model) + CausalLMExport.save
  // README snippet end
}

func readmeDistributed(
  model: BertForSequenceClassification, n: Int, epoch: Int, x: Tensor, y: Tensor, t: Tensor, out: Tensor, o: Tensor
) throws {
  // README snippet: distributed
  let pg = try ProcessGroup.initFromEnvironment()                 // RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
  let ddp = try DistributedDataParallel(model, processGroup: pg)  // 25 MB buckets, rank 0's weights broadcast
  let sampler = try DistributedSampler(datasetSize: n, processGroup: pg, seed: 42)
  for i in try sampler.indices(epoch: epoch) { /* … */ }
  let loss = try ddp.forward { try model(inputIds: x, labels: y).loss! }
  try loss.backward()                                              // gradients averaged across ranks here
  try ddp.noSync { /* … */ }                                             // gradient accumulation without communication
  try pg.allReduce(t, op: .avg); try pg.allGather(intoTensor: out, t); try pg.reduceScatter(intoTensor: o, t)
  let fsdp = try FullyShardedDataParallel(model, processGroup: pg, units: Array(model.bert.encoder.layer))
  let opt = try AdamW(fsdp.shardedParameters, lr: 5e-5)           // or ZeroRedundancyOptimizer over DDP
  // README snippet end
}
