export { CIFAR10, type CIFAR10Options } from "./cifar.js";
export { CIFAR10_CLASSES, CifarDataError, readCifar10, findCifar10 } from "./cifar_files.js";
export { prepareCifar10, DatasetNotFoundError, CIFAR10_URL, CIFAR10_MD5, type PrepareOptions } from "./cifar_download.js";
export { DownloadError, downloadFile } from "./download.js";
