// torch.utils.tensorboard
export { SummaryWriter, type SummaryWriterOptions, type DataFormats } from "./summary_writer.js";
export { readTfRecords, tfRecord } from "./record.js";
export { crc32c, maskedCrc32c } from "./crc32c.js";
