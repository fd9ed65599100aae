import { describeExample } from '../readme/describe-example';

describeExample('data-image-folder');
